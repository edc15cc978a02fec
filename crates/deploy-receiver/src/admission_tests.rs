use super::*;

fn admission(max_connections: usize, per_peer: Option<usize>, budget: usize) -> Arc<Admission> {
    Admission::new(Limits {
        max_connections,
        per_peer,
        budget,
    })
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn per_peer_limit_counts_ipv4_addresses_and_ipv6_64s() {
    let a = admission(100, Some(2), 1024);
    let _one = a.admit(ip("10.0.0.1")).unwrap();
    let two = a.admit(ip("::ffff:10.0.0.1")).unwrap();
    assert_eq!(a.admit(ip("10.0.0.1")).err(), Some(Refusal::PerPeer));
    assert!(
        a.admit(ip("10.0.0.2")).is_ok(),
        "another address is not limited"
    );
    drop(two);
    assert!(
        a.admit(ip("10.0.0.1")).is_ok(),
        "a closed connection frees its count"
    );
    let _v6a = a.admit(ip("2001:db8::1")).unwrap();
    let _v6b = a.admit(ip("2001:db8::ffff:2")).unwrap();
    assert_eq!(
        a.admit(ip("2001:db8::3")).err(),
        Some(Refusal::PerPeer),
        "one /64 is one peer"
    );
    assert!(a.admit(ip("2001:db8:0:1::1")).is_ok());
    let off = admission(100, None, 1024);
    let _held: Vec<Ticket> = (0..50)
        .map(|_| off.admit(ip("10.0.0.1")).unwrap())
        .collect();
}

#[test]
fn at_the_cap_the_stalest_unauthenticated_connection_gives_way() {
    let a = admission(2, None, 1024);
    let old = a.admit(ip("10.0.0.1")).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let newer = a.admit(ip("10.0.0.2")).unwrap();
    let third = a.admit(ip("10.0.0.3")).unwrap();
    assert!(old.is_evicted() && !newer.is_evicted());
    assert_eq!(a.pressure().connections, 2);
    // Authenticated requests are never evicted: with both slots trusted, refuse.
    newer.begin_request();
    newer.trust();
    third.begin_request();
    third.trust();
    assert_eq!(a.admit(ip("10.0.0.4")).err(), Some(Refusal::Full));
    third.end_request();
    assert!(a.admit(ip("10.0.0.4")).is_ok());
    assert!(third.is_evicted(), "idle again, so evictable again");
}

#[tokio::test]
async fn the_budget_evicts_the_stalest_reader_and_waits_for_its_bytes() {
    let a = admission(10, None, 100);
    let stalled = a.admit(ip("10.0.0.1")).unwrap();
    stalled.charge(80).await.unwrap();
    let fresh = a.admit(ip("10.0.0.2")).unwrap();
    fresh.charge(10).await.unwrap();
    assert_eq!(a.pressure().held, 90);
    let deploy = Arc::new(a.admit(ip("10.0.0.3")).unwrap());
    let waiting = tokio::spawn({
        let deploy = deploy.clone();
        async move { deploy.charge(50).await }
    });
    // The stalest holder is told to go; its bytes count until it drops them.
    stalled.evicted().await;
    assert!(!fresh.is_evicted());
    assert!(!waiting.is_finished());
    drop(stalled);
    assert_eq!(waiting.await.unwrap(), Ok(()));
    assert_eq!(a.pressure().held, 60);
    // Authentication takes a request's bytes out of the budget.
    deploy.trust();
    assert_eq!(a.pressure().held, 10);
    fresh.release_all();
    assert_eq!(a.pressure().held, 0);
}

#[tokio::test]
async fn more_than_the_budget_is_refused_and_an_evicted_reader_gets_nothing() {
    let a = admission(10, None, 100);
    let t = a.admit(ip("10.0.0.1")).unwrap();
    assert_eq!(t.charge(101).await, Err(NoBudget));
    t.charge(100).await.unwrap();
    let other = a.admit(ip("10.0.0.2")).unwrap();
    let taker = tokio::spawn(async move {
        let r = other.charge(1).await;
        (r, other)
    });
    t.evicted().await;
    assert_eq!(t.charge(1).await, Err(NoBudget), "evicted readers stop");
    drop(t);
    let (r, _other) = taker.await.unwrap();
    assert_eq!(r, Ok(()));
    assert_eq!(a.pressure().evictions, 1);
}
