//! Time zones: resolving the TZIDs real producers write (IANA, Windows,
//! Outlook display names, libical/Mozilla prefixes, custom VTIMEZONEs),
//! making sure every TZID written has its VTIMEZONE (R1.4, R8.9), and turning
//! a DATE-TIME into an instant (R8.8). Pure: no clock, no environment.

use calcard::common::PartialDateTime;
use calcard::common::timezone::Tz as CalTz;
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarFrequency,
    ICalendarParameterName, ICalendarProperty, ICalendarRecurrenceRule, ICalendarValue,
    ICalendarWeekday,
};
use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;
use std::str::FromStr;

/// Well-known zones tried first when a VTIMEZONE is matched by its rules, so
/// that "Customized Time Zone" becomes America/New_York, not America/Detroit.
const PREFERRED_ZONES: &[Tz] = &[
    Tz::Europe__London,
    Tz::Europe__Berlin,
    Tz::Europe__Paris,
    Tz::Europe__Helsinki,
    Tz::Europe__Moscow,
    Tz::Europe__Istanbul,
    Tz::America__New_York,
    Tz::America__Chicago,
    Tz::America__Denver,
    Tz::America__Phoenix,
    Tz::America__Los_Angeles,
    Tz::America__Anchorage,
    Tz::America__Halifax,
    Tz::America__St_Johns,
    Tz::America__Mexico_City,
    Tz::America__Bogota,
    Tz::America__Sao_Paulo,
    Tz::America__Argentina__Buenos_Aires,
    Tz::America__Santiago,
    Tz::Pacific__Honolulu,
    Tz::Africa__Johannesburg,
    Tz::Africa__Lagos,
    Tz::Africa__Cairo,
    Tz::Africa__Nairobi,
    Tz::Asia__Jerusalem,
    Tz::Asia__Dubai,
    Tz::Asia__Tehran,
    Tz::Asia__Karachi,
    Tz::Asia__Kolkata,
    Tz::Asia__Kathmandu,
    Tz::Asia__Dhaka,
    Tz::Asia__Bangkok,
    Tz::Asia__Singapore,
    Tz::Asia__Shanghai,
    Tz::Asia__Tokyo,
    Tz::Asia__Seoul,
    Tz::Australia__Perth,
    Tz::Australia__Adelaide,
    Tz::Australia__Darwin,
    Tz::Australia__Brisbane,
    Tz::Australia__Sydney,
    Tz::Pacific__Auckland,
];

/// The year whose rules a VTIMEZONE is compared in when nothing in the
/// calendar uses it (no clock in the domain, so a fixed recent year).
const FALLBACK_YEAR: i32 = 2025;

/// Resolve a TZID parameter value to an IANA zone.
///
/// Tries, in order: the IANA name (quotes stripped, any case); Windows and
/// Outlook names (`Pacific Standard Time`, `(UTC+01:00) Amsterdam, Berlin, ...`)
/// through calcard's tables; registry prefixes such as
/// `/mozilla.org/20050126_1/Europe/Berlin` (the trailing Area/City); `Etc/GMT+5`
/// and `UTC+11`; the calendar's own VTIMEZONE with that TZID (its
/// X-LIC-LOCATION, X-MICROSOFT-CDO-TZID, or an IANA zone with the same rules in
/// the years the calendar uses it); last, the bare UTC offset of an Outlook name.
pub fn resolve_tzid(tzid: &str, cal: &ICalendar) -> Option<Tz> {
    let name = unquote(tzid);
    if name.is_empty() {
        return None;
    }
    let weak = match resolve_name(name) {
        Some(Resolved::Exact(tz)) => return Some(tz),
        Some(Resolved::OffsetOnly(tz)) => Some(tz),
        None => None,
    };
    if let Some(tz) = resolve_from_vtimezone(name, tzid, cal) {
        return Some(tz);
    }
    weak
}

/// The zone a TZID names when every reader of this crate agrees on it:
/// written bare (no quotes, no surrounding space), resolved by its name
/// alone with its daylight-saving rules (so [`resolve_tzid`] never looks at
/// a VTIMEZONE for it), and read as the very same zone by calcard's
/// expansion (its `Tz::from_str`, which its resolver tries for every
/// VTIMEZONE of that TZID too). `None` otherwise: then only the full
/// reading of the calendar can say.
pub fn agreed_zone(tzid: &str) -> Option<Tz> {
    if tzid.is_empty() || tzid != tzid.trim() || tzid.contains('"') {
        return None;
    }
    let Some(Resolved::Exact(tz)) = resolve_name(tzid) else {
        return None;
    };
    match CalTz::from_str(tzid) {
        Ok(CalTz::Tz(theirs)) if theirs == tz => Some(tz),
        _ => None,
    }
}

/// A wall-clock time in `zone` as an instant, when it names exactly one
/// (not in a gap, not in the hour repeated when clocks go back).
pub fn single_instant(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        _ => None,
    }
}

/// How sure a name-only resolution is.
#[derive(Clone, Copy)]
enum Resolved {
    /// The name identifies a zone with its daylight-saving rules.
    Exact(Tz),
    /// Only a UTC offset was recognised (e.g. `(UTC+01:00) Somewhere`).
    OffsetOnly(Tz),
}

/// `"x"` -> `x`, trimmed.
fn unquote(tzid: &str) -> &str {
    let t = tzid.trim();
    t.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(t)
        .trim()
}

/// An IANA name, any case.
fn iana(name: &str) -> Option<Tz> {
    if let Ok(tz) = Tz::from_str(name) {
        return Some(tz);
    }
    chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(name))
        .copied()
}

/// A zone from calcard's tables (Windows names, Outlook display names...).
fn calcard_name(name: &str) -> Option<Tz> {
    match CalTz::from_str(name).ok()? {
        CalTz::Tz(tz) => Some(tz),
        CalTz::Fixed(offset) => fixed_zone(offset.local_minus_utc()),
        CalTz::Floating => None,
    }
}

/// `Etc/GMT-1` for +01:00 (the Etc sign is inverted); `None` for odd offsets.
fn fixed_zone(seconds: i32) -> Option<Tz> {
    if seconds % 3600 != 0 {
        return None;
    }
    let hours = seconds / 3600;
    if hours == 0 {
        return Some(Tz::UTC);
    }
    let sign = if hours > 0 { '-' } else { '+' };
    Tz::from_str(&format!("Etc/GMT{sign}{}", hours.abs())).ok()
}

/// `UTC+11`, `GMT-05:00`, `UTC+0530` -> seconds east of UTC.
fn parse_utc_offset(name: &str) -> Option<i32> {
    let upper = name.trim().to_ascii_uppercase();
    let rest = upper
        .strip_prefix("UTC")
        .or_else(|| upper.strip_prefix("GMT"))?
        .trim_start();
    let (sign, digits) = match rest.chars().next()? {
        '+' => (1, rest.get(1..)?),
        '-' => (-1, rest.get(1..)?),
        _ => return None,
    };
    let digits = digits.trim();
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None if digits.len() > 2 => (
            digits.get(..digits.len() - 2)?,
            digits.get(digits.len() - 2..)?,
        ),
        None => (digits, "0"),
    };
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

/// Zones whose city is one of the comma/semicolon separated words of `list`
/// (`Brussels, Copenhagen, Madrid, Paris` -> Europe/Brussels).
fn city_zone(list: &str) -> Option<Tz> {
    for part in list.split([',', ';']) {
        let city = part.trim().replace(' ', "_");
        if city.len() < 3 {
            continue;
        }
        let found = chrono_tz::TZ_VARIANTS.iter().find(|tz| {
            let name = tz.name();
            name.contains('/')
                && !name.starts_with("Etc/")
                && name
                    .rsplit('/')
                    .next()
                    .is_some_and(|c| c.eq_ignore_ascii_case(&city))
        });
        if let Some(tz) = found {
            return Some(*tz);
        }
    }
    None
}

/// Resolve by the name alone.
fn resolve_name(name: &str) -> Option<Resolved> {
    // Outlook writes a Windows name ("W. Europe Standard Time") in every
    // DTSTART, DTEND and RECURRENCE-ID, and resolving one scans the zone
    // table: a first listing asked for the same few names thousands of
    // times. Remembered per thread (pure: the answer depends on the name
    // alone), for at most MEMO_NAMES names.
    thread_local! {
        static MEMO: std::cell::RefCell<std::collections::HashMap<String, Option<Resolved>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    if let Some(known) = MEMO.with(|m| m.try_borrow().ok().and_then(|m| m.get(name).copied())) {
        return known;
    }
    let resolved = resolve_name_anew(name);
    MEMO.with(|m| {
        if let Ok(mut m) = m.try_borrow_mut()
            && m.len() < MEMO_NAMES
        {
            m.insert(name.to_string(), resolved);
        }
    });
    resolved
}

/// How many zone names each thread remembers (hostile data may name many).
const MEMO_NAMES: usize = 256;

fn resolve_name_anew(name: &str) -> Option<Resolved> {
    if let Some(tz) = iana(name) {
        return Some(Resolved::Exact(tz));
    }

    // Outlook display names: "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris".
    if let Some(inner) = name.strip_prefix('(')
        && let Some((offset, rest)) = inner.split_once(')')
    {
        let rest = rest.trim();
        if let Some(tz) = calcard_name(rest)
            .or_else(|| rest.split(';').next().and_then(|r| calcard_name(r.trim())))
            .or_else(|| city_zone(rest))
        {
            return Some(Resolved::Exact(tz));
        }
        return parse_utc_offset(offset)
            .and_then(fixed_zone)
            .map(Resolved::OffsetOnly);
    }

    // Registry prefixes: "/mozilla.org/20050126_1/Europe/Berlin",
    // "/freeassociation.sourceforge.net/Tzfile/America/Argentina/Buenos_Aires".
    if name.starts_with('/') {
        let parts: Vec<&str> = name.split('/').filter(|p| !p.is_empty()).collect();
        for take in [3usize, 2, 1] {
            if let Some(start) = parts.len().checked_sub(take)
                && let Some(tail) = parts.get(start..)
                && let Some(tz) = iana(&tail.join("/"))
            {
                return Some(Resolved::Exact(tz));
            }
        }
    }

    // Windows names ("W. Europe Standard Time"), Outlook names without the
    // offset prefix ("Pacific Time (US & Canada), Tijuana").
    if let Some(tz) = calcard_name(name) {
        return Some(Resolved::Exact(tz));
    }
    if let Some(first) = name.split([';', ',']).next()
        && first.len() < name.len()
        && let Some(tz) = calcard_name(first.trim())
    {
        return Some(Resolved::Exact(tz));
    }

    // "Europe_Berlin", "America-Chicago": a separator instead of the slash.
    for sep in ['_', '-', ' '] {
        if let Some((area, city)) = name.split_once(sep)
            && let Some(tz) = iana(&format!("{area}/{city}"))
        {
            return Some(Resolved::Exact(tz));
        }
    }

    // "UTC+11", "GMT-05:00": fixed offsets spelled out.
    if let Some(tz) = parse_utc_offset(name).and_then(fixed_zone) {
        return Some(Resolved::Exact(tz));
    }
    None
}

/// Text value of the first `name` property of `component`.
fn text_property<'a>(
    component: &'a ICalendarComponent,
    name: &ICalendarProperty,
) -> Option<&'a str> {
    component
        .entries
        .iter()
        .filter(|e| &e.name == name)
        .find_map(|e| e.values.first().and_then(|v| v.as_text()))
}

/// Text value of the first X- property called `name`.
fn other_property<'a>(component: &'a ICalendarComponent, name: &str) -> Option<&'a str> {
    component
        .entries
        .iter()
        .filter(|e| matches!(&e.name, ICalendarProperty::Other(n) if n.eq_ignore_ascii_case(name)))
        .find_map(|e| e.values.first().and_then(|v| v.as_text()))
}

/// The VTIMEZONE of `cal` whose TZID is `name` (exactly, else ignoring case).
fn find_vtimezone<'a>(cal: &'a ICalendar, name: &str) -> Option<(u32, &'a ICalendarComponent)> {
    let zones = || {
        cal.components
            .iter()
            .enumerate()
            .filter(|(_, c)| c.component_type == ICalendarComponentType::VTimezone)
            .filter_map(|(i, c)| {
                Some((
                    u32::try_from(i).ok()?,
                    c,
                    text_property(c, &ICalendarProperty::Tzid)?,
                ))
            })
    };
    zones()
        .find(|(_, _, id)| *id == name)
        .or_else(|| zones().find(|(_, _, id)| unquote(id).eq_ignore_ascii_case(name)))
        .map(|(i, c, _)| (i, c))
}

fn resolve_from_vtimezone(name: &str, raw_tzid: &str, cal: &ICalendar) -> Option<Tz> {
    let (_, vtz) = find_vtimezone(cal, name)?;
    if let Some(location) = other_property(vtz, "X-LIC-LOCATION") {
        let location = location.strip_prefix("SystemV/").unwrap_or(location);
        if let Some(Resolved::Exact(tz)) = resolve_name(location) {
            return Some(tz);
        }
    }
    if let Some(id) = other_property(vtz, "X-MICROSOFT-CDO-TZID")
        && let Some(CalTz::Tz(tz)) = CalTz::from_ms_cdo_zone_id(id.trim())
    {
        return Some(tz);
    }
    let rules = VtzRules::from_component(cal, vtz)?;
    let years = years_using(cal, name, raw_tzid);
    rules.matching_zone(&years)
}

/// Years of the DATE-TIME values in `cal` that carry this TZID.
fn years_using(cal: &ICalendar, name: &str, raw: &str) -> Vec<i32> {
    let mut years: Vec<i32> = Vec::new();
    for component in cal.components.iter().filter(|c| !is_timezone_part(c)) {
        for entry in &component.entries {
            let Some(tzid) = entry.tz_id() else { continue };
            if tzid != name && tzid != raw {
                continue;
            }
            for value in &entry.values {
                if let ICalendarValue::PartialDateTime(dt) = value
                    && let Some(year) = dt.year
                {
                    let year = i32::from(year);
                    if (1900..=2200).contains(&year) && !years.contains(&year) {
                        years.push(year);
                    }
                }
            }
        }
    }
    years.sort_unstable();
    // NOTE: a few years are enough to tell zones apart; keep the work bounded.
    if years.len() > 4 {
        let last = years.last().copied();
        years.truncate(3);
        years.extend(last);
    }
    if years.is_empty() {
        years.push(FALLBACK_YEAR);
    }
    years
}

fn is_timezone_part(c: &ICalendarComponent) -> bool {
    matches!(
        c.component_type,
        ICalendarComponentType::VTimezone
            | ICalendarComponentType::Standard
            | ICalendarComponentType::Daylight
    )
}

/// Seconds east of UTC of a UTC-OFFSET value.
fn offset_seconds(value: &PartialDateTime) -> Option<i32> {
    let h = i32::from(value.tz_hour?);
    let m = i32::from(value.tz_minute.unwrap_or(0));
    let s = h * 3600 + m * 60;
    Some(if value.tz_minus { -s } else { s })
}

/// One STANDARD or DAYLIGHT block of a VTIMEZONE.
struct Observance {
    start: NaiveDateTime,
    from: i32,
    to: i32,
    rule: Option<YearlyRule>,
    rdates: Vec<NaiveDateTime>,
}

/// The yearly rules that VTIMEZONEs use in practice.
struct YearlyRule {
    month: u32,
    day: DayRule,
    until: Option<i64>,
    count: Option<u32>,
}

enum DayRule {
    /// `BYDAY=-1SU`, `BYDAY=2SU`.
    Nth(i16, Weekday),
    /// `BYMONTHDAY=15`.
    MonthDay(i8),
    /// No BYDAY/BYMONTHDAY: the day of DTSTART.
    SameDay(u32),
}

fn weekday(day: ICalendarWeekday) -> Weekday {
    match day {
        ICalendarWeekday::Sunday => Weekday::Sun,
        ICalendarWeekday::Monday => Weekday::Mon,
        ICalendarWeekday::Tuesday => Weekday::Tue,
        ICalendarWeekday::Wednesday => Weekday::Wed,
        ICalendarWeekday::Thursday => Weekday::Thu,
        ICalendarWeekday::Friday => Weekday::Fri,
        ICalendarWeekday::Saturday => Weekday::Sat,
    }
}

fn naive(value: &PartialDateTime) -> Option<NaiveDateTime> {
    value.to_date_time().map(|r| r.date_time)
}

impl YearlyRule {
    fn from_rrule(rule: &ICalendarRecurrenceRule, start: NaiveDateTime, from: i32) -> Option<Self> {
        if rule.freq != ICalendarFrequency::Yearly {
            return None;
        }
        let month = rule
            .bymonth
            .first()
            .map_or(start.month(), |m| u32::from(m.month()));
        let day = if let Some(d) = rule.byday.first() {
            DayRule::Nth(d.ordwk.unwrap_or(1), weekday(d.weekday))
        } else if let Some(d) = rule.bymonthday.first() {
            DayRule::MonthDay(*d)
        } else {
            DayRule::SameDay(start.day())
        };
        let until = rule.until.as_ref().and_then(|u| {
            let r = u.to_date_time()?;
            let offset = r.offset.map_or(from, |o| o.local_minus_utc());
            Some(r.date_time.and_utc().timestamp() - i64::from(offset))
        });
        Some(YearlyRule {
            month,
            day,
            until,
            count: rule.count,
        })
    }

    fn date_in(&self, year: i32) -> Option<NaiveDate> {
        match self.day {
            DayRule::Nth(n, wd) => nth_weekday(year, self.month, n, wd),
            DayRule::MonthDay(d) if d > 0 => {
                NaiveDate::from_ymd_opt(year, self.month, u32::try_from(d).ok()?)
            }
            DayRule::MonthDay(0) => None,
            DayRule::MonthDay(d) => {
                let last = last_day(year, self.month)?;
                last.checked_sub_days(chrono::Days::new(u64::from(d.unsigned_abs()) - 1))
            }
            DayRule::SameDay(d) => NaiveDate::from_ymd_opt(year, self.month, d),
        }
    }
}

fn last_day(year: i32, month: u32) -> Option<NaiveDate> {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()
}

fn nth_weekday(year: i32, month: u32, n: i16, wd: Weekday) -> Option<NaiveDate> {
    if n >= 0 {
        NaiveDate::from_weekday_of_month_opt(year, month, wd, u8::try_from(n.max(1)).ok()?)
    } else {
        let mut date = last_day(year, month)?;
        while date.weekday() != wd {
            date = date.pred_opt()?;
        }
        let back = u64::try_from(i64::from(n.unsigned_abs()) - 1).ok()? * 7;
        let result = date.checked_sub_days(chrono::Days::new(back))?;
        (result.month() == month).then_some(result)
    }
}

/// The offsets a VTIMEZONE defines, evaluated without the tz database.
struct VtzRules {
    observances: Vec<Observance>,
}

impl VtzRules {
    fn from_component(cal: &ICalendar, vtz: &ICalendarComponent) -> Option<Self> {
        let mut observances = Vec::new();
        for id in &vtz.component_ids {
            let Some(part) = cal.components.get(*id as usize) else {
                continue;
            };
            if !matches!(
                part.component_type,
                ICalendarComponentType::Standard | ICalendarComponentType::Daylight
            ) {
                continue;
            }
            let mut start = None;
            let mut from = None;
            let mut to = None;
            let mut rrule = None;
            let mut rdates = Vec::new();
            for entry in &part.entries {
                let first = entry.values.first();
                match (&entry.name, first) {
                    (ICalendarProperty::Dtstart, Some(ICalendarValue::PartialDateTime(dt))) => {
                        start = naive(dt);
                    }
                    (ICalendarProperty::Tzoffsetfrom, Some(ICalendarValue::PartialDateTime(o))) => {
                        from = offset_seconds(o);
                    }
                    (ICalendarProperty::Tzoffsetto, Some(ICalendarValue::PartialDateTime(o))) => {
                        to = offset_seconds(o);
                    }
                    (ICalendarProperty::Rrule, Some(ICalendarValue::RecurrenceRule(r))) => {
                        rrule = Some(r);
                    }
                    (ICalendarProperty::Rdate, _) => {
                        rdates.extend(entry.values.iter().filter_map(|v| match v {
                            ICalendarValue::PartialDateTime(dt) => naive(dt),
                            _ => None,
                        }));
                    }
                    _ => {}
                }
            }
            let (Some(start), Some(to)) = (start, to) else {
                continue;
            };
            let from = from.unwrap_or(to);
            let rule = rrule.and_then(|r| YearlyRule::from_rrule(r, start, from));
            observances.push(Observance {
                start,
                from,
                to,
                rule,
                rdates,
            });
        }
        (!observances.is_empty()).then_some(VtzRules { observances })
    }

    /// Transitions (UTC seconds, new offset) relevant to `years`, sorted.
    fn onsets(&self, years: &[i32]) -> Vec<(i64, i32)> {
        let mut onsets = Vec::new();
        for obs in &self.observances {
            let utc = |local: NaiveDateTime| local.and_utc().timestamp() - i64::from(obs.from);
            onsets.push((utc(obs.start), obs.to));
            for rdate in &obs.rdates {
                onsets.push((utc(*rdate), obs.to));
            }
            let Some(rule) = &obs.rule else { continue };
            for &year in years {
                for y in [year - 1, year] {
                    if y <= obs.start.year() {
                        continue;
                    }
                    if let Some(count) = rule.count
                        && i64::from(y - obs.start.year()) >= i64::from(count)
                    {
                        continue;
                    }
                    let Some(date) = rule.date_in(y) else {
                        continue;
                    };
                    let at = utc(date.and_time(obs.start.time()));
                    if rule.until.is_some_and(|until| at > until) {
                        continue;
                    }
                    onsets.push((at, obs.to));
                }
            }
        }
        onsets.sort_unstable();
        onsets.dedup();
        onsets
    }

    fn offset_at(&self, onsets: &[(i64, i32)], at: i64) -> i32 {
        match onsets.partition_point(|(t, _)| *t <= at).checked_sub(1) {
            Some(i) => onsets.get(i).map_or(0, |(_, o)| *o),
            None => self
                .observances
                .iter()
                .min_by_key(|o| o.start)
                .map_or(0, |o| o.from),
        }
    }

    /// An IANA zone with the same offsets as this VTIMEZONE in `years`.
    fn matching_zone(&self, years: &[i32]) -> Option<Tz> {
        let onsets = self.onsets(years);
        let mut samples: Vec<i64> = Vec::new();
        for &year in years {
            let Some(start) = NaiveDate::from_ymd_opt(year, 1, 1) else {
                continue;
            };
            let start = start.and_hms_opt(12, 0, 0).map(|d| d.and_utc().timestamp());
            let Some(start) = start else { continue };
            samples.extend((0..53).map(|week| start + week * 7 * 86_400));
            let end = start + 366 * 86_400;
            for (t, _) in onsets
                .iter()
                .filter(|(t, _)| *t >= start - 86_400 && *t < end)
            {
                samples.push(t - 60);
                samples.push(t + 60);
            }
        }
        let expected: Vec<(i64, i32)> = samples
            .iter()
            .map(|&t| (t, self.offset_at(&onsets, t)))
            .collect();
        let first = expected.first()?.1;
        if expected.iter().all(|(_, o)| *o == first)
            && let Some(tz) = fixed_zone(first)
        {
            return Some(tz);
        }
        let matches = |tz: &Tz| {
            expected.iter().all(|&(t, offset)| {
                DateTime::from_timestamp(t, 0).is_some_and(|d| {
                    tz.offset_from_utc_datetime(&d.naive_utc())
                        .fix()
                        .local_minus_utc()
                        == offset
                })
            })
        };
        PREFERRED_ZONES
            .iter()
            .chain(chrono_tz::TZ_VARIANTS.iter().filter(|tz| {
                let name = tz.name();
                name.contains('/') && !name.starts_with("Etc/")
            }))
            .find(|tz| matches(tz))
            .copied()
    }
}

/// Components of `cal` in written order (depth first from the VCALENDAR).
fn written_order(cal: &ICalendar) -> Vec<u32> {
    let mut order = Vec::new();
    let mut seen = vec![false; cal.components.len()];
    let mut stack: Vec<u32> = vec![0];
    while let Some(id) = stack.pop() {
        match seen.get_mut(id as usize) {
            Some(s) if !*s => *s = true,
            _ => continue,
        }
        order.push(id);
        if let Some(c) = cal.components.get(id as usize) {
            stack.extend(c.component_ids.iter().rev());
        }
    }
    order
}

/// Distinct TZID parameter values outside VTIMEZONEs, in first-use order.
pub fn tzids_used(cal: &ICalendar) -> Vec<String> {
    let mut used: Vec<String> = Vec::new();
    for id in written_order(cal) {
        let Some(component) = cal.components.get(id as usize) else {
            continue;
        };
        if is_timezone_part(component) {
            continue;
        }
        for entry in &component.entries {
            for param in &entry.params {
                if param.name == ICalendarParameterName::Tzid
                    && let Some(tzid) = param.value.as_text()
                    && !used.iter().any(|u| u == tzid)
                {
                    used.push(tzid.to_string());
                }
            }
        }
    }
    used
}

/// TZIDs of the VTIMEZONEs that are children of the VCALENDAR.
fn defined_tzids(cal: &ICalendar) -> Vec<String> {
    let Some(root) = cal.components.first() else {
        return Vec::new();
    };
    root.component_ids
        .iter()
        .filter_map(|id| cal.components.get(*id as usize))
        .filter(|c| c.component_type == ICalendarComponentType::VTimezone)
        .filter_map(|c| text_property(c, &ICalendarProperty::Tzid).map(str::to_string))
        .collect()
}

/// Copy component `id` of `source` with its sub-components into `out`
/// (not yet attached); returns its new id.
fn copy_subtree(out: &mut ICalendar, source: &ICalendar, id: u32, depth: usize) -> Option<u32> {
    if depth > 8 {
        return None;
    }
    let original = source.components.get(id as usize)?;
    let new_id = u32::try_from(out.components.len()).ok()?;
    out.components.push(ICalendarComponent {
        component_type: original.component_type.clone(),
        entries: original.entries.clone(),
        component_ids: Vec::new(),
    });
    let mut children = Vec::with_capacity(original.component_ids.len());
    for child in &original.component_ids {
        if let Some(copied) = copy_subtree(out, source, *child, depth + 1) {
            children.push(copied);
        }
    }
    if let Some(c) = out.components.get_mut(new_id as usize) {
        c.component_ids = children;
    }
    Some(new_id)
}

/// Put every VTIMEZONE child of the VCALENDAR before the other children,
/// keeping the order within each group.
fn timezones_first(cal: &mut ICalendar) {
    let is_tz: Vec<bool> = cal
        .components
        .iter()
        .map(|c| c.component_type == ICalendarComponentType::VTimezone)
        .collect();
    if let Some(root) = cal.components.first_mut() {
        root.component_ids
            .sort_by_key(|id| !is_tz.get(*id as usize).copied().unwrap_or(false));
    }
}

/// Make sure `out` has a VTIMEZONE for every TZID it uses (R1.4, R8.9).
///
/// The source's VTIMEZONE with the same TZID is copied verbatim; otherwise one
/// is generated from the tz database for the resolved zone, covering the unix
/// seconds `from..to`, with a TZID property equal to the used TZID. VTIMEZONEs
/// end up before the other components. Returns one warning per TZID that could
/// not be resolved (R3.9).
pub fn ensure_vtimezones(
    out: &mut ICalendar,
    source: &ICalendar,
    from: i64,
    to: i64,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let is_calendar = out
        .components
        .first()
        .is_some_and(|c| c.component_type == ICalendarComponentType::VCalendar);
    if !is_calendar {
        if !tzids_used(out).is_empty() {
            warnings.push(
                "the calendar object has no VCALENDAR, so no VTIMEZONE can be added".to_string(),
            );
        }
        return warnings;
    }
    let defined = defined_tzids(out);
    for tzid in tzids_used(out) {
        if defined.contains(&tzid) {
            continue;
        }
        if let Some((id, _)) = find_vtimezone(source, &tzid)
            .filter(|(_, c)| text_property(c, &ICalendarProperty::Tzid) == Some(tzid.as_str()))
            && let Some(new_id) = copy_subtree(out, source, id, 0)
        {
            if let Some(root) = out.components.first_mut() {
                root.component_ids.push(new_id);
            }
            continue;
        }
        let zone = resolve_tzid(&tzid, source).or_else(|| resolve_tzid(&tzid, out));
        let Some(zone) = zone else {
            warnings.push(format!(
                "time zone {tzid:?} is unknown and the invitation has no VTIMEZONE for it; \
                 its times cannot be placed exactly"
            ));
            continue;
        };
        match out.add_timezone(zone.name(), from, to) {
            Some(new_id) => {
                if let Some(entry) = out.components.get_mut(new_id as usize).and_then(|c| {
                    c.entries
                        .iter_mut()
                        .find(|e| e.name == ICalendarProperty::Tzid)
                }) {
                    *entry = ICalendarEntry::new(ICalendarProperty::Tzid).with_value(tzid.clone());
                }
            }
            None => warnings.push(format!(
                "time zone {tzid:?} (resolved as {}) could not be described in a VTIMEZONE",
                zone.name()
            )),
        }
    }
    timezones_first(out);
    warnings
}

/// The instant of a DATE or DATE-TIME value (R8.8).
///
/// A value with `Z` or an offset is exact; with a TZID it is local time in the
/// resolved zone (`None` when the TZID cannot be resolved); floating times and
/// DATEs (at midnight) are read in `fallback`. A repeated local time means the
/// first occurrence; a time inside a spring gap uses the offset from before it.
pub fn partial_to_instant(
    value: &PartialDateTime,
    tzid: Option<&str>,
    cal: &ICalendar,
    fallback: Tz,
) -> Option<DateTime<Utc>> {
    let result = value.to_date_time()?;
    if value.hour.is_none() {
        return local_to_utc(fallback, result.date_time);
    }
    if let Some(offset) = result.offset {
        let at = result
            .date_time
            .checked_sub_signed(Duration::seconds(i64::from(offset.local_minus_utc())))?;
        return Some(at.and_utc());
    }
    let zone = match tzid {
        Some(tzid) => resolve_tzid(tzid, cal)?,
        None => fallback,
    };
    local_to_utc(zone, result.date_time)
}

/// The instant of a [`crate::domain::ical::CalDate`]: a TZID that cannot be resolved, floating
/// times and DATEs are read in `fallback` (the user's zone).
pub fn to_instant(
    value: &super::ical::CalDate,
    cal: &ICalendar,
    fallback: Tz,
) -> Option<DateTime<Utc>> {
    use super::ical::CalDate;
    match value {
        CalDate::Utc(t) => Some(t.and_utc()),
        CalDate::Date(_) | CalDate::Floating(_) => local_to_utc(fallback, value.naive()),
        CalDate::Zoned { tzid, local } => {
            local_to_utc(resolve_tzid(tzid, cal).unwrap_or(fallback), *local)
        }
    }
}

/// A wall-clock time in `zone` as an instant: the earlier of two in the
/// hour repeated when clocks go back, and in a gap the offset in force
/// just before it.
pub(crate) fn local_to_utc(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, second) => Some(first.min(second).with_timezone(&Utc)),
        LocalResult::None => {
            // Inside a gap: find the offset in force just before it.
            let mut probe = local;
            for _ in 0..(30 * 4) {
                probe = probe.checked_sub_signed(Duration::minutes(15))?;
                if let Some(before) = zone.from_local_datetime(&probe).earliest() {
                    let offset = before.offset().fix().local_minus_utc();
                    let at = local.checked_sub_signed(Duration::seconds(i64::from(offset)))?;
                    return Some(at.and_utc());
                }
            }
            None
        }
    }
}

#[cfg(test)]
mod tests;
