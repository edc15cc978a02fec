//! Sizes as users write them: `2048` (bytes), `64kB`, `512KiB`, `1.5GiB`,
//! `20G`; units are case-insensitive, `k/M/G/T` count in 1000s and
//! `KiB/MiB/GiB/TiB` in 1024s.

/// Parses a size in bytes, more than zero; the error says what was wrong.
pub fn parse(text: &str) -> Result<u64, String> {
    let (number, unit) = crate::duration::number_and_unit(text)?;
    let factor: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "m" | "mb" => 1000_u64.pow(2),
        "g" | "gb" => 1000_u64.pow(3),
        "t" | "tb" => 1000_u64.pow(4),
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "unknown unit `{unit}`; use B, KiB, MiB, GiB or TiB (or kB, MB, GB, TB)"
            ));
        }
    };
    // Whole numbers exactly; fractions through f64.
    let bytes = if let Ok(n) = number.parse::<u64>() {
        n.checked_mul(factor)
    } else {
        let n: f64 = number
            .parse()
            .map_err(|_| format!("`{number}` is not a number"))?;
        let b = n * factor as f64;
        // `b` is below u64::MAX (checked) and not negative: the number
        // was parsed without a sign.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        (b < u64::MAX as f64).then_some(b as u64)
    };
    match bytes {
        None => Err("it is too large".into()),
        Some(0) => Err("it must be more than zero".into()),
        Some(b) => Ok(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_form() {
        assert_eq!(parse("2048"), Ok(2048));
        assert_eq!(parse("64kB"), Ok(64_000));
        assert_eq!(parse("1 MB"), Ok(1_000_000));
        assert_eq!(parse("500mb"), Ok(500_000_000));
        assert_eq!(parse("20G"), Ok(20_000_000_000));
        assert_eq!(parse("2KiB"), Ok(2048));
        assert_eq!(parse("1MiB"), Ok(1 << 20));
        assert_eq!(parse("1.5 GiB"), Ok(1_610_612_736));
        assert_eq!(parse("2TiB"), Ok(2 << 40));
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        assert!(parse("").unwrap_err().contains("number"));
        assert!(parse("MiB").unwrap_err().contains("number"));
        assert!(parse("-1").unwrap_err().contains("number"));
        assert!(parse("x").unwrap_err().contains("number"));
        assert!(parse("1 parsec").unwrap_err().contains("unknown unit"));
        assert!(parse("1e999").unwrap_err().contains("unknown unit"));
        assert!(parse("1.2.3MiB").unwrap_err().contains("not a number"));
        assert!(parse("0").unwrap_err().contains("more than zero"));
        assert!(
            parse("99999999999999999999GiB")
                .unwrap_err()
                .contains("too large")
        );
        assert!(parse("20000000000TiB").unwrap_err().contains("too large"));
    }
}
