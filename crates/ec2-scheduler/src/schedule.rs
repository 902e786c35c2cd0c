//! The `Schedule` tag grammar and the instants it names.
//!
//! ```text
//! value    := comment | [days] period [zone] | oneoff [zone]
//! comment  := "#" anything                      ignored
//! period   := HH:MM "-" HH:MM                   start, stop (stop is next day when start > stop;
//!                                               a stop of 24:00 is the end of the start's day)
//! oneoff   := "-" HH:MM ["T"]                   stop (or terminate) once, on the day the
//!                                               scheduler first sees it (see OneOff::instant)
//! days     := day ("," day)* ; day := Mon | Mon-Fri (wrapping ranges allowed, e.g. Fri-Mon);
//!             a name is 3 or more letters of the English day name, any case
//! zone     := an IANA name such as Europe/Amsterdam, any case (UTC when absent)
//! ```
//! Spaces around `,` and around a `-` between two times or two days are ignored
//! (`Mon - Fri 08:00 - 19:15`).
//! A day set names the day a period *starts* (in the schedule's zone).
//!
//! Daylight saving, deliberately: a local time that does not exist (spring-forward gap) fires at the
//! same distance after the gap, as if the clock had not jumped (02:30 → 03:30 CEST); a local time
//! that occurs twice (fall-back overlap) fires once, at its first occurrence.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, Offset, TimeZone, Utc,
};
use chrono_tz::Tz;
use std::fmt;

/// Tag values are at most 256 characters; messages quote at most this much of the input.
const QUOTE_CHARS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// The value starts with `#`: a comment, a carried-out one-off, or a rewritten invalid value.
    Ignored,
    Daily(Period),
    Once(OneOff),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub days: Option<DaySet>,
    pub start: NaiveTime,
    pub stop: NaiveTime,
    pub zone: Tz,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOff {
    pub at: NaiveTime,
    pub terminate: bool,
    pub zone: Tz,
}

/// Days of the week as a bit set, Monday = bit 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySet(u8);

impl DaySet {
    pub fn contains(self, day: chrono::Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }

    pub fn len(self) -> u32 {
        self.0.count_ones()
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// What an instant asks of the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Event {
    Start,
    Stop,
    Terminate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the value is empty")]
    Empty,
    #[error("expected HH:MM-HH:MM, -HH:MM or -HH:MMT, found \"{0}\"")]
    NoPeriod(String),
    #[error("\"{0}\" is not a time of day (HH:MM, 00:00 to 23:59, or 24:00 as a stop)")]
    BadTime(String),
    #[error("start and stop are the same time ({0})")]
    SameStartStop(String),
    #[error("\"{0}\" is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun or a range like Mon-Fri)")]
    BadDay(String),
    #[error("\"{0}\" is not an IANA time zone (e.g. Europe/Amsterdam)")]
    BadZone(String),
    #[error("a one-off (-HH:MM) cannot have days")]
    DaysOnOneOff,
    #[error("unexpected \"{0}\" after the schedule")]
    Trailing(String),
}

fn quote(s: &str) -> String {
    if s.chars().count() <= QUOTE_CHARS {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(QUOTE_CHARS).collect();
        format!("{cut}…")
    }
}

/// Parses a `Schedule` tag value. Never panics, whatever the input.
pub fn parse(value: &str) -> Result<Schedule, ParseError> {
    let value = value.trim();
    if value.starts_with('#') {
        return Ok(Schedule::Ignored);
    }
    if value.is_empty() {
        return Err(ParseError::Empty);
    }
    // "Sat, Sun 10:00 - 12:00" is one day list and one period: glue the spaces around commas and
    // hyphens away before splitting.
    let glued = glue_separators(value);
    let tokens: Vec<&str> = glued.split_whitespace().collect();

    let (days, rest) = match tokens.as_slice() {
        [] => return Err(ParseError::Empty),
        [first, ..] if is_time_token(first) => (None, &tokens[..]),
        [only] => return Err(ParseError::NoPeriod(quote(only))),
        [first, rest @ ..] => (Some(parse_days(first)?), rest),
    };
    let (spec, zone_token, trailing) = match rest {
        [spec] => (*spec, None, None),
        [spec, zone] => (*spec, Some(*zone), None),
        [spec, zone, extra, ..] => (*spec, Some(*zone), Some(*extra)),
        [] => return Err(ParseError::NoPeriod(quote(value))),
    };
    if let Some(extra) = trailing {
        return Err(ParseError::Trailing(quote(extra)));
    }
    let zone = match zone_token {
        None => Tz::UTC,
        Some(z) => parse_zone(z).ok_or_else(|| ParseError::BadZone(quote(z)))?,
    };

    if let Some(one_off) = spec.strip_prefix('-') {
        if days.is_some() {
            return Err(ParseError::DaysOnOneOff);
        }
        let (time, terminate) = match one_off.strip_suffix(['T', 't']) {
            Some(time) => (time, true),
            None => (one_off, false),
        };
        let at = parse_time(time)?;
        return Ok(Schedule::Once(OneOff {
            at,
            terminate,
            zone,
        }));
    }

    let (start, stop) = spec
        .split_once('-')
        .ok_or_else(|| ParseError::NoPeriod(quote(spec)))?;
    let (start, stop) = (parse_time(start)?, parse_stop(stop)?);
    if start == stop {
        return Err(ParseError::SameStartStop(quote(spec)));
    }
    Ok(Schedule::Daily(Period {
        days,
        start,
        stop,
        zone,
    }))
}

/// Removes the whitespace around every `,` and around a `-` that joins two times (`08:00 - 19:15`)
/// or two days (`Mon - Fri`), and after a `-` that starts a one-off (`- 18:30`). Before a one-off's
/// `-` the space stays, so `Mon-Fri - 18:30` is still reported as a one-off with days.
fn glue_separators(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next_solid = chars[i + 1..].iter().position(|c| !c.is_whitespace());
        let after = next_solid.map(|n| chars[i + 1 + n]);
        let before = out.trim_end().chars().last();
        let same_kind = |a: char, b: char| {
            (a.is_ascii_digit() && b.is_ascii_digit()) || (a.is_alphabetic() && b.is_alphabetic())
        };
        let (glue_before, glue_after) = match (c, before, after) {
            (',', _, _) => (true, true),
            ('-', Some(b), Some(a)) if same_kind(b, a) => (true, true),
            ('-', _, Some(a)) if a.is_ascii_digit() => (false, true),
            _ => (false, false),
        };
        if glue_before {
            while out.ends_with(char::is_whitespace) {
                out.pop();
            }
        }
        out.push(c);
        i += 1;
        if glue_after {
            i += next_solid.unwrap_or(0);
        }
    }
    out
}

/// An IANA zone in any letter case, as its canonical spelling (`europe/amsterdam` → `Europe/Amsterdam`).
fn parse_zone(text: &str) -> Option<Tz> {
    text.parse::<Tz>().ok().or_else(|| {
        chrono_tz::TZ_VARIANTS
            .iter()
            .copied()
            .find(|tz| tz.name().eq_ignore_ascii_case(text))
    })
}

/// A period's stop: a time of day, or `24:00` for the end of the day (midnight after it).
fn parse_stop(text: &str) -> Result<NaiveTime, ParseError> {
    if text == "24:00" {
        return Ok(NaiveTime::MIN);
    }
    parse_time(text)
}

/// Starts like a period or a one-off: a digit, or `-` then a digit.
fn is_time_token(token: &str) -> bool {
    let t = token.strip_prefix('-').unwrap_or(token);
    t.starts_with(|c: char| c.is_ascii_digit())
}

fn parse_time(text: &str) -> Result<NaiveTime, ParseError> {
    let bad = || ParseError::BadTime(quote(text));
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || h.len() > 2 || !digits(m) || m.len() != 2 {
        return Err(bad());
    }
    let (h, m) = (
        h.parse::<u32>().map_err(|_| bad())?,
        m.parse::<u32>().map_err(|_| bad())?,
    );
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(bad)
}

fn parse_day(name: &str) -> Option<u8> {
    const NAMES: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let lower = name.to_ascii_lowercase();
    NAMES
        .iter()
        .position(|full| lower.len() >= 3 && full.starts_with(&lower))
        .map(|i| i as u8)
}

fn parse_days(text: &str) -> Result<DaySet, ParseError> {
    let mut set = 0u8;
    for part in text.split(',') {
        let bad = || ParseError::BadDay(quote(part));
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (
                    parse_day(from).ok_or_else(bad)?,
                    parse_day(to).ok_or_else(bad)?,
                );
                let mut day = from;
                loop {
                    set |= 1 << day;
                    if day == to {
                        break;
                    }
                    day = (day + 1) % 7;
                }
            }
            None => set |= 1 << parse_day(part).ok_or_else(bad)?,
        }
    }
    Ok(DaySet(set))
}

/// The UTC instant of a local wall-clock time, with the DST rules in the module docs.
pub fn local_instant(zone: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // In a gap: read the wall time with the offset in force before the jump.
            let before = zone
                .offset_from_utc_datetime(&(local - Duration::days(1)))
                .fix();
            Utc.from_utc_datetime(&(local - before))
        }
    }
}

impl OneOff {
    /// The one instant this one-off names, fixed by the run that first saw it (its window
    /// `first_seen_after < t <= first_seen_now`): the first `HH:MM` after the start of that
    /// window, provided it falls on that run's day in the zone (or inside the window, for a run
    /// just after midnight). `None` when its time had already passed on that day: it is dropped,
    /// never carried out a day late.
    pub fn instant(
        &self,
        first_seen_after: DateTime<Utc>,
        first_seen_now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let first_day = first_seen_after.with_timezone(&self.zone).date_naive();
        let next = (0..3)
            .map(|d| local_instant(self.zone, first_day + Duration::days(d), self.at))
            .find(|t| *t > first_seen_after)?;
        let run_day = first_seen_now.with_timezone(&self.zone).date_naive();
        (next <= first_seen_now || next.with_timezone(&self.zone).date_naive() <= run_day)
            .then_some(next)
    }

    pub fn event(&self) -> Event {
        if self.terminate {
            Event::Terminate
        } else {
            Event::Stop
        }
    }
}

/// Longest gap between two instants of any schedule (weekly day sets, plus an overnight stop).
const LOOKBACK_DAYS: i64 = 9;

impl Schedule {
    /// The latest instant `t` with `last_run < t <= now`, and what it asks for. `None` when nothing
    /// falls in the window. When two events share an instant, stopping wins over starting.
    pub fn latest_due(
        &self,
        last_run: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<(Event, DateTime<Utc>)> {
        if now <= last_run {
            return None;
        }
        let zone = match self {
            Schedule::Ignored => return None,
            Schedule::Daily(p) => p.zone,
            Schedule::Once(o) => o.zone,
        };
        // Only the latest instant matters, and every schedule fires at least weekly, so a long
        // outage does not make us walk months of days.
        let from = last_run.max(now - Duration::days(LOOKBACK_DAYS));
        let first_day = from.with_timezone(&zone).date_naive() - Duration::days(1);
        let last_day = now.with_timezone(&zone).date_naive();
        let in_window = |t: &DateTime<Utc>| last_run < *t && *t <= now;

        let mut best: Option<(DateTime<Utc>, Event)> = None;
        let mut consider = |t: DateTime<Utc>, event: Event| {
            if in_window(&t) && best.is_none_or(|b| (t, event) > b) {
                best = Some((t, event));
            }
        };
        for day in first_day.iter_days().take_while(|d| *d <= last_day) {
            match self {
                Schedule::Daily(p) => {
                    if p.days.is_some_and(|set| !set.contains(day.weekday())) {
                        continue;
                    }
                    consider(local_instant(zone, day, p.start), Event::Start);
                    let stop_day = if p.start > p.stop {
                        day + Duration::days(1)
                    } else {
                        day
                    };
                    consider(local_instant(zone, stop_day, p.stop), Event::Stop);
                }
                Schedule::Once(o) => consider(local_instant(zone, day, o.at), o.event()),
                Schedule::Ignored => {}
            }
        }
        best.map(|(t, e)| (e, t))
    }

    /// Hours per day, averaged over a week, that this schedule keeps an instance stopped compared
    /// with running around the clock. One-offs and ignored values save nothing recurring.
    pub fn hours_saved_per_day(&self) -> f64 {
        match self {
            Schedule::Daily(p) => {
                let minutes_on = (p.stop - p.start).num_minutes().rem_euclid(24 * 60) as f64;
                let days_on = p.days.map_or(7, DaySet::len) as f64;
                (7.0 * 24.0 - days_on * minutes_on / 60.0) / 7.0
            }
            Schedule::Once(_) | Schedule::Ignored => 0.0,
        }
    }

    pub fn is_one_off(&self) -> bool {
        matches!(self, Schedule::Once(_))
    }
}

/// The canonical tag value of a schedule: parsing it gives the same schedule back (a comment
/// renders as `#`; days as three-letter names; UTC is left out; a stop at midnight as `00:00`).
impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let hm = |t: NaiveTime| t.format("%H:%M");
        let zone = |f: &mut fmt::Formatter<'_>, zone: Tz| {
            if zone == Tz::UTC {
                Ok(())
            } else {
                write!(f, " {}", zone.name())
            }
        };
        match self {
            Schedule::Ignored => f.write_str("#"),
            Schedule::Daily(period) => {
                if let Some(days) = period.days {
                    let names: Vec<&str> = (0..7)
                        .filter(|i| days.0 & (1 << i) != 0)
                        .map(|i| DAYS[i])
                        .collect();
                    write!(f, "{} ", names.join(","))?;
                }
                write!(f, "{}-{}", hm(period.start), hm(period.stop))?;
                zone(f, period.zone)
            }
            Schedule::Once(one_off) => {
                write!(f, "-{}", hm(one_off.at))?;
                if one_off.terminate {
                    f.write_str("T")?;
                }
                zone(f, one_off.zone)
            }
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Event::Start => "start",
            Event::Stop => "stop",
            Event::Terminate => "terminate",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn grammar_table() {
        let amsterdam: Tz = "Europe/Amsterdam".parse().unwrap();
        let cases: &[(&str, Result<Schedule, ParseError>)] = &[
            (
                "08:00-19:15",
                Ok(Schedule::Daily(Period {
                    days: None,
                    start: t(8, 0),
                    stop: t(19, 15),
                    zone: Tz::UTC,
                })),
            ),
            (
                "  21:00-07:45  ",
                Ok(Schedule::Daily(Period {
                    days: None,
                    start: t(21, 0),
                    stop: t(7, 45),
                    zone: Tz::UTC,
                })),
            ),
            (
                "8:00-9:30",
                Ok(Schedule::Daily(Period {
                    days: None,
                    start: t(8, 0),
                    stop: t(9, 30),
                    zone: Tz::UTC,
                })),
            ),
            (
                "-18:30",
                Ok(Schedule::Once(OneOff {
                    at: t(18, 30),
                    terminate: false,
                    zone: Tz::UTC,
                })),
            ),
            (
                "-18:30T",
                Ok(Schedule::Once(OneOff {
                    at: t(18, 30),
                    terminate: true,
                    zone: Tz::UTC,
                })),
            ),
            (
                "-00:00 Europe/Amsterdam",
                Ok(Schedule::Once(OneOff {
                    at: t(0, 0),
                    terminate: false,
                    zone: amsterdam,
                })),
            ),
            ("#08:00-19:15", Ok(Schedule::Ignored)),
            ("# anything at all", Ok(Schedule::Ignored)),
            ("  #-18:30T", Ok(Schedule::Ignored)),
            (
                "08:00-19:15 Europe/Amsterdam",
                Ok(Schedule::Daily(Period {
                    days: None,
                    start: t(8, 0),
                    stop: t(19, 15),
                    zone: amsterdam,
                })),
            ),
            ("", Err(ParseError::Empty)),
            ("   ", Err(ParseError::Empty)),
            ("always", Err(ParseError::NoPeriod("always".into()))),
            ("08:00", Err(ParseError::NoPeriod("08:00".into()))),
            ("24:00-08:00", Err(ParseError::BadTime("24:00".into()))),
            ("08:60-09:00", Err(ParseError::BadTime("08:60".into()))),
            ("08:0-09:00", Err(ParseError::BadTime("08:0".into()))),
            ("123:00-09:00", Err(ParseError::BadTime("123:00".into()))),
            (
                "+8:00-09:00",
                Err(ParseError::NoPeriod("+8:00-09:00".into())),
            ),
            (
                "08:00-08:00",
                Err(ParseError::SameStartStop("08:00-08:00".into())),
            ),
            ("-25:00", Err(ParseError::BadTime("25:00".into()))),
            ("-18:30X", Err(ParseError::BadTime("18:30X".into()))),
            (
                "08:00-19:15 Mars/Olympus",
                Err(ParseError::BadZone("Mars/Olympus".into())),
            ),
            (
                "Funday 08:00-19:15",
                Err(ParseError::BadDay("Funday".into())),
            ),
            ("Mon-Fri -18:00", Err(ParseError::DaysOnOneOff)),
            (
                "Mon-Fri 08:00-19:15 UTC extra",
                Err(ParseError::Trailing("extra".into())),
            ),
            (
                "08:00-19:15 UTC extra",
                Err(ParseError::Trailing("extra".into())),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(&parse(input), expected, "input {input:?}");
        }
    }

    /// What people type: spaces around separators, 24:00, a zone in any case. Each reads as the
    /// tidy spelling does.
    #[test]
    fn values_as_people_type_them() {
        let same = [
            ("08:00 - 19:15", "08:00-19:15"),
            ("08:00 -19:15", "08:00-19:15"),
            ("08:00- 19:15", "08:00-19:15"),
            ("Mon - Fri 08:00-19:15", "Mon-Fri 08:00-19:15"),
            ("Mon - Fri 08:00 - 19:15", "Mon-Fri 08:00-19:15"),
            ("Mon -Fri,  Sun 08:00 -  19:15", "Mon-Fri,Sun 08:00-19:15"),
            ("sat , SUNDAY 10:00 - 12:00", "Sat,Sun 10:00-12:00"),
            ("- 18:30T", "-18:30T"),
            (
                "08:00-19:15 europe/amsterdam",
                "08:00-19:15 Europe/Amsterdam",
            ),
            (
                "08:00-19:15 EUROPE/AMSTERDAM",
                "08:00-19:15 Europe/Amsterdam",
            ),
            (
                "-18:30 america/port-au-prince",
                "-18:30 America/Port-au-Prince",
            ),
            ("08:00-24:00", "08:00-00:00"),
            ("Mon-Fri 08:00 - 24:00", "Mon-Fri 08:00-00:00"),
            ("Tues-Thurs 08:00-19:15", "Tue-Thu 08:00-19:15"),
        ];
        for (typed, tidy) in same {
            assert_eq!(parse(typed), parse(tidy), "{typed:?}");
            assert!(parse(typed).is_ok(), "{typed:?}: {:?}", parse(typed));
        }
        // The canonical zone spelling is what is kept.
        match parse("08:00-19:15 asia/TOKYO").unwrap() {
            Schedule::Daily(p) => assert_eq!(p.zone.name(), "Asia/Tokyo"),
            other => panic!("{other:?}"),
        }
        // A one-off after days is still named as such; 24:00 only ends a period.
        assert_eq!(parse("Mon-Fri - 18:00"), Err(ParseError::DaysOnOneOff));
        assert_eq!(
            parse("24:00-08:00"),
            Err(ParseError::BadTime("24:00".into()))
        );
        assert_eq!(parse("-24:00"), Err(ParseError::BadTime("24:00".into())));
        assert_eq!(
            parse("00:00-24:00"),
            Err(ParseError::SameStartStop("00:00-24:00".into()))
        );
        assert_eq!(
            parse("24:01-08:00"),
            Err(ParseError::BadTime("24:01".into()))
        );
        // Two letters are not a day.
        assert_eq!(
            parse("Mo-Fr 08:00-19:15"),
            Err(ParseError::BadDay("Mo-Fr".into()))
        );
    }

    /// `08:00-24:00` stops at the midnight that ends the start's day, and only on the days named.
    #[test]
    fn twenty_four_hundred_stops_at_the_end_of_the_day() {
        let friday_only = parse("Fri 08:00-24:00").unwrap();
        assert_eq!(
            friday_only.latest_due(utc("2026-11-27T23:50:00Z"), utc("2026-11-28T00:00:00Z")),
            Some((Event::Stop, utc("2026-11-28T00:00:00Z")))
        );
        assert_eq!(
            friday_only.latest_due(utc("2026-11-26T23:50:00Z"), utc("2026-11-27T00:00:00Z")),
            None,
            "Thursday's midnight is not Friday's"
        );
    }

    /// A one-off belongs to the day of the run that first sees it: fired in that run's window
    /// (catch-up included) or later that day, dropped when its time had passed at the start of
    /// that window, never a day late.
    #[test]
    fn a_one_off_belongs_to_the_day_it_is_first_seen() {
        let once = |value: &str| match parse(value) {
            Ok(Schedule::Once(o)) => o,
            other => panic!("{value}: {other:?}"),
        };
        let cases = [
            // (tag, first run's window start, first run's instant, expected instant)
            (
                "-18:30T",
                "2026-11-23T18:30:00Z",
                "2026-11-23T18:40:00Z",
                None,
            ),
            (
                "-18:30T",
                "2026-11-23T18:35:00Z",
                "2026-11-23T18:45:00Z",
                None,
            ),
            (
                "-18:30T",
                "2026-11-23T18:20:00Z",
                "2026-11-23T18:40:00Z",
                Some("2026-11-23T18:30:00Z"),
            ),
            (
                "-20:00",
                "2026-11-23T18:35:00Z",
                "2026-11-23T18:45:00Z",
                Some("2026-11-23T20:00:00Z"),
            ),
            // A run just after midnight: yesterday's 23:58 is inside its window, today's 00:02
            // too, and 23:50 is later today.
            (
                "-23:58",
                "2026-11-23T23:55:00Z",
                "2026-11-24T00:05:00Z",
                Some("2026-11-23T23:58:00Z"),
            ),
            (
                "-00:02",
                "2026-11-23T23:55:00Z",
                "2026-11-24T00:05:00Z",
                Some("2026-11-24T00:02:00Z"),
            ),
            (
                "-23:50",
                "2026-11-23T23:55:00Z",
                "2026-11-24T00:05:00Z",
                Some("2026-11-24T23:50:00Z"),
            ),
            // In the tag's zone: 18:30 in Amsterdam is 17:30Z in November.
            (
                "-18:30 Europe/Amsterdam",
                "2026-11-23T17:25:00Z",
                "2026-11-23T17:35:00Z",
                Some("2026-11-23T17:30:00Z"),
            ),
            (
                "-18:30 Europe/Amsterdam",
                "2026-11-23T17:35:00Z",
                "2026-11-23T17:45:00Z",
                None,
            ),
        ];
        for (tag, after, now, expected) in cases {
            assert_eq!(
                once(tag).instant(utc(after), utc(now)),
                expected.map(utc),
                "{tag} first seen in ({after}, {now}]"
            );
        }
    }

    #[test]
    fn day_sets() {
        let days = |v: &str| match parse(v).unwrap() {
            Schedule::Daily(Period { days: Some(d), .. }) => d,
            other => panic!("{v}: {other:?}"),
        };
        let weekdays = days("Mon-Fri 08:00-19:15");
        assert_eq!(weekdays.len(), 5);
        assert!(weekdays.contains(Weekday::Fri) && !weekdays.contains(Weekday::Sat));
        let weekend = days("Sat,Sun 10:00-12:00");
        assert!(weekend.contains(Weekday::Sat) && weekend.contains(Weekday::Sun));
        assert_eq!(weekend.len(), 2);
        assert_eq!(days("Sat, Sun 10:00-12:00"), weekend);
        assert_eq!(days("sat , SUNDAY 10:00-12:00"), weekend);
        let wrapping = days("Fri-Mon 10:00-12:00");
        assert_eq!(wrapping.len(), 4);
        assert!(wrapping.contains(Weekday::Sun) && !wrapping.contains(Weekday::Wed));
        assert_eq!(days("Mon,Wed-Thu 10:00-12:00").len(), 3);
    }

    /// (tag, last_run, now, expected event and instant)
    type DueCase = (
        &'static str,
        &'static str,
        &'static str,
        Option<(Event, &'static str)>,
    );

    #[test]
    fn due_table() {
        let cases: &[DueCase] = &[
            // plain day schedule
            (
                "08:00-19:15",
                "2026-11-23T07:50:00Z",
                "2026-11-23T08:00:00Z",
                Some((Event::Start, "2026-11-23T08:00:00Z")),
            ),
            (
                "08:00-19:15",
                "2026-11-23T08:00:00Z",
                "2026-11-23T08:10:00Z",
                None,
            ), // t == last_run is not due again
            (
                "08:00-19:15",
                "2026-11-23T19:10:00Z",
                "2026-11-23T19:20:00Z",
                Some((Event::Stop, "2026-11-23T19:15:00Z")),
            ),
            (
                "08:00-19:15",
                "2026-11-23T12:00:00Z",
                "2026-11-23T12:10:00Z",
                None,
            ),
            // missed ticks: the latest instant in the window wins
            (
                "08:00-19:15",
                "2026-11-23T07:00:00Z",
                "2026-11-23T20:00:00Z",
                Some((Event::Stop, "2026-11-23T19:15:00Z")),
            ),
            (
                "08:00-19:15",
                "2026-11-22T20:00:00Z",
                "2026-11-23T09:00:00Z",
                Some((Event::Start, "2026-11-23T08:00:00Z")),
            ),
            (
                "08:00-19:15",
                "2026-11-01T00:00:00Z",
                "2026-11-23T09:00:00Z",
                Some((Event::Start, "2026-11-23T08:00:00Z")),
            ),
            // overnight: the stop is on the next day
            (
                "21:00-07:45",
                "2026-11-23T20:55:00Z",
                "2026-11-23T21:05:00Z",
                Some((Event::Start, "2026-11-23T21:00:00Z")),
            ),
            (
                "21:00-07:45",
                "2026-11-24T07:40:00Z",
                "2026-11-24T07:50:00Z",
                Some((Event::Stop, "2026-11-24T07:45:00Z")),
            ),
            // midnight
            (
                "00:00-06:00",
                "2026-11-23T23:55:00Z",
                "2026-11-24T00:00:00Z",
                Some((Event::Start, "2026-11-24T00:00:00Z")),
            ),
            (
                "18:00-00:00",
                "2026-11-23T23:55:00Z",
                "2026-11-24T00:05:00Z",
                Some((Event::Stop, "2026-11-24T00:00:00Z")),
            ),
            // day sets: the day is the day the period starts
            (
                "Mon-Fri 08:00-19:15",
                "2026-11-21T07:55:00Z",
                "2026-11-21T08:05:00Z",
                None,
            ), // Saturday
            (
                "Mon-Fri 08:00-19:15",
                "2026-11-23T07:55:00Z",
                "2026-11-23T08:05:00Z",
                Some((Event::Start, "2026-11-23T08:00:00Z")),
            ),
            (
                "Fri 22:00-02:00",
                "2026-11-28T01:55:00Z",
                "2026-11-28T02:05:00Z",
                Some((Event::Stop, "2026-11-28T02:00:00Z")),
            ), // Saturday morning stop of Friday's period
            (
                "Sat 22:00-02:00",
                "2026-11-28T01:55:00Z",
                "2026-11-28T02:05:00Z",
                None,
            ),
            (
                "Sat,Sun 10:00-12:00",
                "2026-11-22T11:55:00Z",
                "2026-11-22T12:05:00Z",
                Some((Event::Stop, "2026-11-22T12:00:00Z")),
            ),
            // zones: 08:00 in Amsterdam is 07:00 UTC in winter, 06:00 UTC in summer
            (
                "08:00-19:15 Europe/Amsterdam",
                "2026-11-23T06:55:00Z",
                "2026-11-23T07:00:00Z",
                Some((Event::Start, "2026-11-23T07:00:00Z")),
            ),
            (
                "08:00-19:15 Europe/Amsterdam",
                "2026-07-01T05:55:00Z",
                "2026-07-01T06:00:00Z",
                Some((Event::Start, "2026-07-01T06:00:00Z")),
            ),
            (
                "Mon 00:30-01:00 Asia/Tokyo",
                "2026-11-22T15:25:00Z",
                "2026-11-22T15:35:00Z",
                Some((Event::Start, "2026-11-22T15:30:00Z")),
            ), // Monday in Tokyo, Sunday in UTC
            // DST gap (Amsterdam 2026-03-29 02:00 → 03:00): 02:30 fires at 03:30 CEST = 01:30 UTC
            (
                "02:30-05:00 Europe/Amsterdam",
                "2026-03-29T01:25:00Z",
                "2026-03-29T01:35:00Z",
                Some((Event::Start, "2026-03-29T01:30:00Z")),
            ),
            // DST overlap (Amsterdam 2026-10-25 03:00 → 02:00): 02:30 fires once, at the first occurrence (00:30 UTC)
            (
                "02:30-05:00 Europe/Amsterdam",
                "2026-10-25T00:25:00Z",
                "2026-10-25T00:35:00Z",
                Some((Event::Start, "2026-10-25T00:30:00Z")),
            ),
            (
                "02:30-05:00 Europe/Amsterdam",
                "2026-10-25T01:25:00Z",
                "2026-10-25T01:35:00Z",
                None,
            ),
            // New York gap and overlap
            (
                "02:30-09:00 America/New_York",
                "2026-03-08T07:25:00Z",
                "2026-03-08T07:35:00Z",
                Some((Event::Start, "2026-03-08T07:30:00Z")),
            ),
            (
                "01:30-09:00 America/New_York",
                "2026-11-01T05:25:00Z",
                "2026-11-01T05:35:00Z",
                Some((Event::Start, "2026-11-01T05:30:00Z")),
            ),
            (
                "01:30-09:00 America/New_York",
                "2026-11-01T06:25:00Z",
                "2026-11-01T06:35:00Z",
                None,
            ),
            // one-offs
            (
                "-18:30",
                "2026-11-23T18:25:00Z",
                "2026-11-23T18:30:00Z",
                Some((Event::Stop, "2026-11-23T18:30:00Z")),
            ), // t == now is due
            (
                "-18:30T",
                "2026-11-23T18:25:00Z",
                "2026-11-23T18:35:00Z",
                Some((Event::Terminate, "2026-11-23T18:30:00Z")),
            ),
            (
                "-18:30",
                "2026-11-23T18:30:00Z",
                "2026-11-23T18:40:00Z",
                None,
            ),
            (
                "-23:55",
                "2026-11-23T23:50:00Z",
                "2026-11-24T00:05:00Z",
                Some((Event::Stop, "2026-11-23T23:55:00Z")),
            ), // caught up across midnight
            // ignored, and an empty window
            (
                "#08:00-19:15",
                "2026-11-23T07:50:00Z",
                "2026-11-23T08:00:00Z",
                None,
            ),
            (
                "08:00-19:15",
                "2026-11-23T08:05:00Z",
                "2026-11-23T08:00:00Z",
                None,
            ),
        ];
        for (tag, last_run, now, expected) in cases {
            let schedule = parse(tag).unwrap();
            let got = schedule.latest_due(utc(last_run), utc(now));
            let expected = expected.map(|(e, at)| (e, utc(at)));
            assert_eq!(got, expected, "{tag} in ({last_run}, {now}]");
        }
    }

    #[test]
    fn hours_saved() {
        let saved = |v: &str| parse(v).unwrap().hours_saved_per_day();
        assert!((saved("08:00-19:15") - 12.75).abs() < 1e-9);
        assert!((saved("21:00-07:45") - 13.25).abs() < 1e-9);
        // 5 days × 11.25 h on = 56.25 h of 168 h
        assert!((saved("Mon-Fri 08:00-19:15") - (168.0 - 56.25) / 7.0).abs() < 1e-9);
        assert_eq!(saved("-18:00"), 0.0);
        assert_eq!(saved("#x"), 0.0);
    }

    #[test]
    fn long_inputs_are_quoted_short() {
        let long = "x".repeat(300);
        let message = parse(&long).unwrap_err().to_string();
        assert!(message.len() < 120, "{message}");
    }

    #[test]
    fn a_schedule_renders_as_its_canonical_tag_value() {
        for (tag, canonical) in [
            (
                "Mon - Fri 08:00 - 19:15 europe/amsterdam",
                "Mon,Tue,Wed,Thu,Fri 08:00-19:15 Europe/Amsterdam",
            ),
            ("Fri-Mon 22:00-24:00", "Mon,Fri,Sat,Sun 22:00-00:00"),
            ("- 8:00t", "-08:00T"),
            ("-18:30 UTC", "-18:30"),
            ("#9to5", "#"),
        ] {
            let parsed = parse(tag).unwrap_or_else(|e| panic!("{tag}: {e}"));
            assert_eq!(parsed.to_string(), canonical, "{tag}");
            assert_eq!(parse(canonical), Ok(parsed), "{canonical}");
        }
    }
}
