//! A plain-text table for a terminal: columns padded to their widest cell.

pub(crate) struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(headers: &[&'static str]) -> Self {
        Self {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; cells are expected clean (see `super::clean`).
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The lines, header first, each indented by two spaces.
    pub(crate) fn lines(&self) -> Vec<String> {
        let width = |i: usize| {
            self.rows
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .chain(std::iter::once(self.headers[i].len()))
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.headers.len()).map(width).collect();
        let line = |cells: Vec<&str>| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            format!("  {}", padded.join("  ")).trim_end().to_owned()
        };
        std::iter::once(line(self.headers.clone()))
            .chain(
                self.rows
                    .iter()
                    .map(|r| line(r.iter().map(String::as_str).collect())),
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let mut t = Table::new(&["ID", "STATE"]);
        t.row(vec!["1005".into(), "success".into()]);
        t.row(vec!["7".into(), String::new()]);
        assert_eq!(t.lines(), ["  ID    STATE", "  1005  success", "  7"]);
    }
}
