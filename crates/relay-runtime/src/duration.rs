//! Durations as users write them: `500ms`, `1.5s`, `90s`, `5m`, `1h`, or bare seconds.

use std::time::Duration;

/// Parses a duration; the error says what was wrong.
pub fn parse(text: &str) -> Result<Duration, String> {
    let (number, unit) = number_and_unit(text)?;
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{number}` is not a number"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("unknown unit `{other}`")),
    };
    if !seconds.is_finite() || seconds > 7.0 * 24.0 * 3600.0 {
        return Err("it is longer than a week".into());
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `text` split into its leading number (digits and dots) and the rest, both
/// trimmed; an error when it does not start with a number. Shared with
/// [`crate::size`].
pub(crate) fn number_and_unit(text: &str) -> Result<(&str, &str), String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    if number.is_empty() {
        return Err("it does not start with a number".into());
    }
    Ok((number, unit.trim()))
}

/// Writes a duration the way users write them.
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_form() {
        assert_eq!(parse("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("5m").unwrap(), Duration::from_mins(5));
        assert_eq!(parse("1h").unwrap(), Duration::from_hours(1));
        assert_eq!(parse("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse("0").unwrap(), Duration::ZERO);
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        assert!(parse("").unwrap_err().contains("number"));
        assert!(parse("5 minutes").unwrap_err().contains("unknown unit"));
        assert!(parse("-1s").is_err());
        assert!(parse("1.2.3s").unwrap_err().contains("not a number"));
        assert!(parse("9999h").unwrap_err().contains("week"));
    }

    #[test]
    fn format_round_trips_common_values() {
        for text in ["500ms", "1.5s", "90s", "5m", "1h"] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
    }

    proptest::proptest! {
        #[test]
        fn whole_milliseconds_round_trip(ms in 0u64..86_400_000) {
            let d = Duration::from_millis(ms);
            let back = parse(&format(d)).unwrap();
            proptest::prop_assert!((i128::try_from(back.as_millis()).unwrap() - i128::from(ms)).abs() <= 50);
        }
    }
}
