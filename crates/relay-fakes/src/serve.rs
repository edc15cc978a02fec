//! An axum app on 127.0.0.1, on its own thread and runtime, so a fake keeps
//! answering while the test blocks on a child process. Stops when dropped.

use axum::Router;

/// Keeps the server's thread alive; stops it when dropped.
pub(crate) struct Background {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves `app` on a free port; returns its `http://` base URL.
pub(crate) fn spawn(app: Router, what: &'static str) -> (String, Background) {
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{what}: runtime: {e}"));
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap_or_else(|e| panic!("{what}: bind 127.0.0.1: {e}"));
            let addr = listener.local_addr().expect("local addr");
            url_tx.send(format!("http://{addr}")).expect("report url");
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await;
        });
    });
    let url = url_rx
        .recv()
        .unwrap_or_else(|_| panic!("{what} did not start"));
    (
        url,
        Background {
            stop: Some(stop_tx),
            thread: Some(thread),
        },
    )
}
