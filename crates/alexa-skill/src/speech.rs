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

/// The words Alexa hears for a name's separators; they carry no meaning of their own.
const SEPARATOR_WORDS: [&str; 5] = ["dash", "hyphen", "underscore", "dot", "point"];

/// The value of a number word: "seven" → 7, "twenty" → 20 ("oh" is a spoken zero).
fn word_value(word: &str) -> Option<u32> {
    if word == "oh" {
        return Some(0);
    }
    ONES.iter()
        .position(|w| *w == word)
        .or_else(|| {
            TENS.iter()
                .position(|w| !w.is_empty() && *w == word)
                .map(|t| t * 10)
        })
        .map(|n| n as u32)
}

/// A name as it is spoken and as it is written, reduced to one form, so "worker two",
/// "Worker-2", "worker_2" and "worker2" all become `worker 2`: lower case, words split at
/// anything that is not a letter or digit and between letters and digits, number words as
/// digits ("twenty one" → 21, "forty-two" → 42), separator words ("dash") dropped.
pub fn name_key(text: &str) -> String {
    let lower = text.to_lowercase();
    let mut tokens: Vec<String> = Vec::new();
    let mut current = String::new();
    let push = |current: &mut String, tokens: &mut Vec<String>| {
        if !current.is_empty() {
            tokens.push(std::mem::take(current));
        }
    };
    for c in lower.chars() {
        if !c.is_alphanumeric() {
            push(&mut current, &mut tokens);
            continue;
        }
        let boundary = current
            .chars()
            .last()
            .is_some_and(|last| last.is_ascii_digit() != c.is_ascii_digit());
        if boundary {
            push(&mut current, &mut tokens);
        }
        current.push(c);
    }
    push(&mut current, &mut tokens);

    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        if SEPARATOR_WORDS.contains(&token.as_str()) {
            i += 1;
            continue;
        }
        match word_value(token) {
            // "twenty one": a tens word followed by a unit word is one number.
            Some(tens) if (20..100).contains(&tens) && tens % 10 == 0 => {
                let unit = tokens
                    .get(i + 1)
                    .and_then(|t| word_value(t))
                    .filter(|u| (1..10).contains(u));
                out.push((tens + unit.unwrap_or(0)).to_string());
                i += if unit.is_some() { 2 } else { 1 };
            }
            Some(n) => {
                out.push(n.to_string());
                i += 1;
            }
            None => {
                out.push(token.clone());
                i += 1;
            }
        }
    }
    out.join(" ")
}

/// A written name as Alexa would hear it: digits as words ("worker-2" → "worker two",
/// "web10" → "web ten"), separators as spaces.
pub fn spoken_name(name: &str) -> String {
    name_key(name)
        .split(' ')
        .map(|token| match token.parse::<u32>() {
            // "07" keeps its digits: said as a word it would lose the zero.
            Ok(n) if n < 100 && !(token.len() > 1 && token.starts_with('0')) => {
                number_words(n).replace('-', " ")
            }
            _ => token.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `wanted` names `name` in part: its words appear in the name's words, in order and
/// next to each other ("db" and "db primary" in `prod-db-primary`, not "rod").
pub fn names_part(name_key: &str, wanted_key: &str) -> bool {
    let name: Vec<&str> = name_key.split(' ').collect();
    let wanted: Vec<&str> = wanted_key.split(' ').filter(|w| !w.is_empty()).collect();
    !wanted.is_empty() && name.windows(wanted.len()).any(|w| w == wanted.as_slice())
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

    /// Issue 13, point 7: names as spoken and as written meet in one form.
    #[test]
    fn names_as_spoken_and_as_written() {
        for (text, key) in [
            ("worker two", "worker 2"),
            ("Worker-2", "worker 2"),
            ("worker_2", "worker 2"),
            ("worker2", "worker 2"),
            ("worker dash two", "worker 2"),
            ("web twenty one", "web 21"),
            ("web-21", "web 21"),
            ("forty-two", "42"),
            ("db twenty", "db 20"),
            ("prod-db-primary", "prod db primary"),
            ("  Splunk ", "splunk"),
            ("i-0a1b", "i 0 a 1 b"),
            ("", ""),
        ] {
            assert_eq!(name_key(text), key, "{text:?}");
        }
        for (name, spoken) in [
            ("worker-2", "worker two"),
            ("web10", "web ten"),
            ("web-21", "web twenty one"),
            ("prod_db_primary", "prod db primary"),
            ("build-1234", "build 1234"),
        ] {
            assert_eq!(spoken_name(name), spoken, "{name}");
            assert_eq!(
                name_key(&spoken_name(name)),
                name_key(name),
                "{name} both ways"
            );
        }
        assert!(names_part("prod db primary", "db"));
        assert!(names_part("prod db primary", "db primary"));
        assert!(!names_part("prod db primary", "primary db"));
        assert!(!names_part("prod db primary", "rod"));
        assert!(!names_part("prod db primary", ""));
    }

    proptest::proptest! {
        /// Any written name (words, each with a number under 100 or none, and separators) and
        /// the way Alexa says it reduce to the same key. (Consonant-only words: a word that is
        /// itself a number word is covered by the table above.)
        #[test]
        fn a_name_and_its_spoken_form_meet(
            parts in proptest::collection::vec("[b-df-hj-np-tv-z]{1,6}[0-9]{0,2}", 1..5),
            separator in "[-_. ]",
        ) {
            let name = parts.join(&separator);
            proptest::prop_assert_eq!(name_key(&spoken_name(&name)), name_key(&name));
        }
    }
}
