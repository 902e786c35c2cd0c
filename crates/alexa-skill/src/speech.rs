//! Words for numbers, places and waits.

/// A region as its location name: eu-west-1 → Ireland.
pub fn location(region: &str) -> String {
    let name = match region {
        "us-east-1" => "North Virginia",
        "us-east-2" => "Ohio",
        "us-west-1" => "North California",
        "us-west-2" => "Oregon",
        "ca-central-1" => "Canada",
        "eu-west-1" => "Ireland",
        "eu-west-2" => "London",
        "eu-west-3" => "Paris",
        "eu-central-1" => "Frankfurt",
        "eu-central-2" => "Zurich",
        "eu-north-1" => "Stockholm",
        "eu-south-1" => "Milan",
        "eu-south-2" => "Spain",
        "ap-northeast-1" => "Tokyo",
        "ap-northeast-2" => "Seoul",
        "ap-northeast-3" => "Osaka",
        "ap-southeast-1" => "Singapore",
        "ap-southeast-2" => "Sydney",
        "ap-south-1" => "Mumbai",
        "ap-east-1" => "Hong Kong",
        "sa-east-1" => "Sao Paulo",
        "me-south-1" => "Bahrain",
        "af-south-1" => "Cape Town",
        other => return other.to_owned(),
    };
    name.to_owned()
}

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// 0–99 in words; larger numbers as digits.
pub fn number_words(n: u32) -> String {
    match n {
        0..=19 => ONES[n as usize].to_owned(),
        20..=99 if n.is_multiple_of(10) => TENS[(n / 10) as usize].to_owned(),
        20..=99 => format!("{}-{}", TENS[(n / 10) as usize], ONES[(n % 10) as usize]),
        _ => n.to_string(),
    }
}

/// "in 3 minutes", "in about 2 hours".
pub fn retry_phrase(wait: chrono::Duration) -> String {
    let minutes = (wait.num_seconds() + 59) / 60;
    match minutes {
        ..=1 => "in a minute".to_owned(),
        2..=90 => format!("in {minutes} minutes"),
        _ => format!("in about {} hours", (minutes + 30) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(location("eu-west-1"), "Ireland");
        assert_eq!(location("xx-test-9"), "xx-test-9");
        assert_eq!(number_words(4), "four");
        assert_eq!(number_words(40), "forty");
        assert_eq!(number_words(42), "forty-two");
        assert_eq!(number_words(512), "512");
        assert_eq!(retry_phrase(chrono::Duration::seconds(30)), "in a minute");
        assert_eq!(retry_phrase(chrono::Duration::minutes(15)), "in 15 minutes");
        assert_eq!(
            retry_phrase(chrono::Duration::hours(23)),
            "in about 23 hours"
        );
    }
}
