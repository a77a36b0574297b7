//! Lenient iCalendar parsing and strict writing on top of calcard.
//!
//! calcard keeps property order, unknown properties and parameters, and
//! writes CRLF lines folded at 75 octets without splitting UTF-8 (R8.1, R8.2).
//! What it does not do is unfold at the byte level: `extract` does that
//! before text reaches [`parse`].

use calcard::common::{IanaString, PartialDateTime};
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarParameter,
    ICalendarParameterName, ICalendarParameterValue, ICalendarProperty, ICalendarValue,
    ICalendarValueType,
};
use calcard::{Entry, Parser};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use thiserror::Error;

/// Limits against hostile input (R9.8, T10).
pub const MAX_CALENDAR_BYTES: usize = 1024 * 1024;
pub const MAX_COMPONENTS: usize = 2000;
pub const MAX_ATTENDEES: usize = 2000;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum IcalError {
    #[error("calendar data is {size} bytes, more than the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("calendar data has {count} components, more than the limit of {limit}")]
    TooManyComponents { count: usize, limit: usize },
    #[error("a component has {count} attendees, more than the limit of {limit}")]
    TooManyAttendees { count: usize, limit: usize },
    #[error("no VCALENDAR found in the calendar data")]
    NoCalendar,
}

/// The result of a lenient parse: calendars plus what was tolerated.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub calendars: Vec<ICalendar>,
    pub warnings: Vec<String>,
}

/// Parse every VCALENDAR in `text` (already unfolded and valid UTF-8).
/// Invalid lines and unterminated components are tolerated with a warning
/// (R8.13); size limits are enforced (R9.8).
pub fn parse(text: &str) -> Result<Parsed, IcalError> {
    if text.len() > MAX_CALENDAR_BYTES {
        return Err(IcalError::TooLarge {
            size: text.len(),
            limit: MAX_CALENDAR_BYTES,
        });
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser::new(text);
    let mut calendars = Vec::new();
    let mut warnings = Vec::new();
    // Each call consumes input, so the loop ends; the bound is a safety net.
    for _ in 0..100_000 {
        match parser.entry() {
            Entry::ICalendar(mut cal) => {
                if cal.components.len() > MAX_COMPONENTS {
                    return Err(IcalError::TooManyComponents {
                        count: cal.components.len(),
                        limit: MAX_COMPONENTS,
                    });
                }
                for comp in &cal.components {
                    let count = comp
                        .entries
                        .iter()
                        .filter(|e| e.name == ICalendarProperty::Attendee)
                        .count();
                    if count > MAX_ATTENDEES {
                        return Err(IcalError::TooManyAttendees {
                            count,
                            limit: MAX_ATTENDEES,
                        });
                    }
                }
                if cal
                    .components
                    .first()
                    .is_some_and(|c| c.component_type == ICalendarComponentType::VCalendar)
                {
                    repair_lenient(&mut cal, &mut warnings);
                    calendars.push(cal);
                } else {
                    warnings.push("a component outside VCALENDAR was ignored".to_string());
                }
            }
            Entry::InvalidLine(line) => {
                let shown: String = line.chars().take(60).collect();
                warnings.push(format!("invalid line ignored: {shown:?}"));
            }
            Entry::UnexpectedComponentEnd { expected, found } => warnings.push(format!(
                "END:{} where END:{} was expected",
                found.as_str(),
                expected.as_str()
            )),
            Entry::UnterminatedComponent(name) => {
                warnings.push(format!("component {name} is not terminated"))
            }
            Entry::TooManyComponents => {
                return Err(IcalError::TooManyComponents {
                    count: MAX_COMPONENTS + 1,
                    limit: MAX_COMPONENTS,
                });
            }
            Entry::Eof => break,
            Entry::VCard(_) => warnings.push("a vCard was ignored".to_string()),
            _ => warnings.push("unrecognised data ignored".to_string()),
        }
    }
    if calendars.is_empty() {
        return Err(IcalError::NoCalendar);
    }
    Ok(Parsed {
        calendars,
        warnings,
    })
}

/// Tolerate the errors real senders (and the RFC examples) make, so that
/// nothing invalid is written back (R8.13, T12), each with a warning:
/// a DTSTAMP, CREATED or LAST-MODIFIED without `Z` is read as UTC (R8.8);
/// a DTEND or DUE that is not a date is dropped (DTSTART and DURATION still
/// give the event); RSVP=YES becomes RSVP=TRUE; an ORGANIZER or ATTENDEE
/// without a URI scheme is kept as it is (R1.8, R6.2).
fn repair_lenient(cal: &mut ICalendar, warnings: &mut Vec<String>) {
    let mut notes: Vec<String> = Vec::new();
    for comp in cal.components.iter_mut().filter(|c| {
        matches!(
            c.component_type,
            ICalendarComponentType::VEvent
                | ICalendarComponentType::VTodo
                | ICalendarComponentType::VJournal
        )
    }) {
        let mut drop: Vec<ICalendarProperty> = Vec::new();
        for entry in comp.entries.iter_mut() {
            match &entry.name {
                ICalendarProperty::Dtstamp
                | ICalendarProperty::Created
                | ICalendarProperty::LastModified => {
                    if let Some(CalDate::Floating(t)) = CalDate::from_entry(entry) {
                        notes.push(format!(
                            "{} {} has no Z; read as UTC",
                            entry.name.as_str(),
                            t.format("%Y%m%dT%H%M%S")
                        ));
                        *entry = CalDate::Utc(t).to_entry(entry.name.clone());
                    }
                }
                ICalendarProperty::Dtend | ICalendarProperty::Due => {
                    let readable = CalDate::from_entry(entry).is_some()
                        || matches!(entry.values.first(),
                            Some(ICalendarValue::Text(t)) if CalDate::parse_text(t).is_some());
                    if !readable {
                        let shown: String = entry_text(entry)
                            .unwrap_or_default()
                            .chars()
                            .take(40)
                            .collect();
                        notes.push(format!(
                            "{} {shown:?} is not a date; ignored",
                            entry.name.as_str()
                        ));
                        drop.push(entry.name.clone());
                    }
                }
                ICalendarProperty::Organizer | ICalendarProperty::Attendee => {
                    let value = entry
                        .values
                        .first()
                        .and_then(value_text)
                        .unwrap_or_default();
                    if !value.is_empty() && !value.contains(':') {
                        notes.push(format!(
                            "{} {:?} has no mailto:; read as an e-mail address",
                            entry.name.as_str(),
                            value.chars().take(80).collect::<String>()
                        ));
                    }
                    let odd_rsvp = entry
                        .parameter(&ICalendarParameterName::Rsvp)
                        .filter(|v| !matches!(v, ICalendarParameterValue::Bool(_)))
                        .map(|v| param_text(v).unwrap_or_default());
                    if let Some(shown) = odd_rsvp {
                        let yes =
                            matches!(shown.to_ascii_uppercase().as_str(), "TRUE" | "YES" | "1");
                        notes.push(format!(
                            "RSVP={} is not TRUE or FALSE; read as {}",
                            shown.chars().take(20).collect::<String>(),
                            if yes { "TRUE" } else { "FALSE" }
                        ));
                        set_param(entry, ICalendarParameter::rsvp(yes));
                    }
                }
                _ => {}
            }
        }
        comp.entries.retain(|e| !drop.contains(&e.name));
    }
    for n in notes {
        let n = format!("lenient parse: {n}");
        if !warnings.contains(&n) {
            warnings.push(n);
        }
    }
}

/// Serialise strictly: CRLF, folded at 75 octets, TEXT escaped, parameters
/// quoted when needed (R8.1–R8.6).
pub fn write(cal: &ICalendar) -> String {
    if cal.components.is_empty() {
        return String::new();
    }
    cal.to_string()
}

// ---------------------------------------------------------------------------
// Dates and times
// ---------------------------------------------------------------------------

/// A DATE or DATE-TIME value in one of its three forms (R8.8).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CalDate {
    Date(NaiveDate),
    Floating(NaiveDateTime),
    Utc(NaiveDateTime),
    Zoned { tzid: String, local: NaiveDateTime },
}

impl CalDate {
    /// Read the first value of a date property, with its TZID parameter.
    pub fn from_entry(entry: &ICalendarEntry) -> Option<CalDate> {
        let value = entry.values.first()?;
        let pdt = match value {
            ICalendarValue::PartialDateTime(p) => p.as_ref(),
            ICalendarValue::Period(calcard::icalendar::ICalendarPeriod::Range {
                start, ..
            }) => start,
            ICalendarValue::Period(calcard::icalendar::ICalendarPeriod::Duration {
                start, ..
            }) => start,
            _ => return None,
        };
        Self::from_partial(pdt, entry.tz_id())
    }

    /// All values of a multi-valued date property (EXDATE, RDATE).
    pub fn all_from_entry(entry: &ICalendarEntry) -> Vec<CalDate> {
        let tzid = entry.tz_id();
        entry
            .values
            .iter()
            .filter_map(|v| match v {
                ICalendarValue::PartialDateTime(p) => Self::from_partial(p, tzid),
                ICalendarValue::Period(calcard::icalendar::ICalendarPeriod::Range {
                    start,
                    ..
                })
                | ICalendarValue::Period(calcard::icalendar::ICalendarPeriod::Duration {
                    start,
                    ..
                }) => Self::from_partial(start, tzid),
                _ => None,
            })
            .collect()
    }

    pub fn from_partial(p: &PartialDateTime, tzid: Option<&str>) -> Option<CalDate> {
        let date =
            NaiveDate::from_ymd_opt(i32::from(p.year?), u32::from(p.month?), u32::from(p.day?))?;
        let Some(hour) = p.hour else {
            return Some(CalDate::Date(date));
        };
        let time = NaiveTime::from_hms_opt(
            u32::from(hour),
            u32::from(p.minute.unwrap_or(0)),
            u32::from(p.second.unwrap_or(0)).min(59),
        )?;
        let local = NaiveDateTime::new(date, time);
        if p.tz_hour.is_some() {
            // A trailing Z; an explicit offset is invalid (R8.8) but is
            // normalised to UTC rather than dropped.
            let offset =
                i64::from(p.tz_hour.unwrap_or(0)) * 3600 + i64::from(p.tz_minute.unwrap_or(0)) * 60;
            let offset = if p.tz_minus { -offset } else { offset };
            let utc = local - chrono::Duration::seconds(offset);
            return Some(CalDate::Utc(utc));
        }
        match tzid {
            Some(tzid) if !tzid.is_empty() => Some(CalDate::Zoned {
                tzid: tzid.to_string(),
                local,
            }),
            _ => Some(CalDate::Floating(local)),
        }
    }

    /// Parse the basic text forms `20250113`, `20250113T090000`,
    /// `20250113T090000Z` (as kept in X- properties).
    pub fn parse_text(s: &str) -> Option<CalDate> {
        let s = s.trim();
        if s.len() == 8 {
            return NaiveDate::parse_from_str(s, "%Y%m%d")
                .ok()
                .map(CalDate::Date);
        }
        if let Some(utc) = s.strip_suffix('Z') {
            return NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S")
                .ok()
                .map(CalDate::Utc);
        }
        NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%S")
            .ok()
            .map(CalDate::Floating)
    }

    /// A TEXT property holding this value (calcard writes dates in X-
    /// properties as empty values, so they are kept as text).
    pub fn to_text_entry(&self, name: ICalendarProperty) -> ICalendarEntry {
        ICalendarEntry::new(name).with_value(self.value_text())
    }

    pub fn is_date(&self) -> bool {
        matches!(self, CalDate::Date(_))
    }

    pub fn tzid(&self) -> Option<&str> {
        match self {
            CalDate::Zoned { tzid, .. } => Some(tzid),
            _ => None,
        }
    }

    /// The local wall-clock value (midnight for a DATE).
    pub fn naive(&self) -> NaiveDateTime {
        match self {
            CalDate::Date(d) => d.and_time(NaiveTime::MIN),
            CalDate::Floating(t) | CalDate::Utc(t) => *t,
            CalDate::Zoned { local, .. } => *local,
        }
    }

    /// The value as iCalendar text without parameters: `20250113`,
    /// `20250113T090000`, `20250113T090000Z`.
    pub fn value_text(&self) -> String {
        match self {
            CalDate::Date(d) => d.format("%Y%m%d").to_string(),
            CalDate::Floating(t) | CalDate::Zoned { local: t, .. } => {
                t.format("%Y%m%dT%H%M%S").to_string()
            }
            CalDate::Utc(t) => t.format("%Y%m%dT%H%M%SZ").to_string(),
        }
    }

    /// The value with its TZID, as a human-readable key (`TZID=X:...`).
    pub fn display_key(&self) -> String {
        match self {
            CalDate::Zoned { tzid, .. } => format!("TZID={tzid}:{}", self.value_text()),
            CalDate::Date(_) => format!("VALUE=DATE:{}", self.value_text()),
            _ => self.value_text(),
        }
    }

    /// A calcard value for this date.
    pub fn to_partial(&self) -> PartialDateTime {
        use chrono::{Datelike, Timelike};
        let t = self.naive();
        let mut p = PartialDateTime {
            year: u16::try_from(t.year()).ok(),
            month: u8::try_from(t.month()).ok(),
            day: u8::try_from(t.day()).ok(),
            ..Default::default()
        };
        if !self.is_date() {
            p.hour = u8::try_from(t.hour()).ok();
            p.minute = u8::try_from(t.minute()).ok();
            p.second = u8::try_from(t.second()).ok();
        }
        if matches!(self, CalDate::Utc(_)) {
            p.tz_hour = Some(0);
            p.tz_minute = Some(0);
        }
        p
    }

    /// A property holding this date, with `TZID` or `VALUE=DATE` as needed.
    pub fn to_entry(&self, name: ICalendarProperty) -> ICalendarEntry {
        let mut entry = ICalendarEntry::new(name).with_value(self.to_partial());
        match self {
            CalDate::Zoned { tzid, .. } => entry.add_param(ICalendarParameter::tzid(tzid.clone())),
            CalDate::Date(_) => {
                entry.add_param(ICalendarParameter::value(ICalendarValueType::Date))
            }
            _ => {}
        }
        entry
    }

    /// The same instant/local time written in the form of `template`
    /// (R1.10, R8.7: RECURRENCE-ID and EXDATE take the form of DTSTART).
    pub fn with_form_of(naive_local: NaiveDateTime, template: &CalDate) -> CalDate {
        match template {
            CalDate::Date(_) => CalDate::Date(naive_local.date()),
            CalDate::Floating(_) => CalDate::Floating(naive_local),
            CalDate::Utc(_) => CalDate::Utc(naive_local),
            CalDate::Zoned { tzid, .. } => CalDate::Zoned {
                tzid: tzid.clone(),
                local: naive_local,
            },
        }
    }
}

// ---------------------------------------------------------------------------
// Component helpers
// ---------------------------------------------------------------------------

/// The children of component `id` (indexes into `cal.components`).
pub fn children(cal: &ICalendar, id: u32) -> Vec<u32> {
    cal.components
        .get(id as usize)
        .map(|c| c.component_ids.clone())
        .unwrap_or_default()
}

/// Ids of the scheduling components (VEVENT, VTODO, VJOURNAL) directly
/// under the VCALENDAR.
pub fn scheduling_ids(cal: &ICalendar) -> Vec<u32> {
    children(cal, 0)
        .into_iter()
        .filter(|id| {
            cal.components.get(*id as usize).is_some_and(|c| {
                matches!(
                    c.component_type,
                    ICalendarComponentType::VEvent
                        | ICalendarComponentType::VTodo
                        | ICalendarComponentType::VJournal
                )
            })
        })
        .collect()
}

pub fn component(cal: &ICalendar, id: u32) -> Option<&ICalendarComponent> {
    cal.components.get(id as usize)
}

/// The unescaped TEXT of the first `prop`.
pub fn text(comp: &ICalendarComponent, prop: &ICalendarProperty) -> Option<String> {
    let entry = comp.property(prop)?;
    entry_text(entry)
}

/// The text of an entry's value(s); list values are joined with ", ".
pub fn entry_text(entry: &ICalendarEntry) -> Option<String> {
    let parts: Vec<String> = entry.values.iter().filter_map(value_text).collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(", "))
    }
}

/// A readable text for any value.
pub fn value_text(value: &ICalendarValue) -> Option<String> {
    match value {
        ICalendarValue::Text(t) => Some(t.clone()),
        ICalendarValue::Uri(u) => u.as_str().map(str::to_string),
        ICalendarValue::Integer(i) => Some(i.to_string()),
        ICalendarValue::Boolean(b) => Some(if *b { "TRUE" } else { "FALSE" }.to_string()),
        ICalendarValue::Float(f) => Some(f.to_string()),
        ICalendarValue::Status(s) => Some(s.as_str().to_string()),
        ICalendarValue::Method(m) => Some(m.as_str().to_string()),
        ICalendarValue::Transparency(t) => Some(t.as_str().to_string()),
        ICalendarValue::Classification(c) => Some(c.as_str().to_string()),
        ICalendarValue::Action(a) => Some(a.as_str().to_string()),
        other => {
            // Dates, durations, rules: use the writer's own form.
            let mut entry = ICalendarEntry::new(ICalendarProperty::Other("X".into()));
            entry.values.push(other.clone());
            let unfolded = entry_line(&entry);
            unfolded
                .trim_end()
                .split_once(':')
                .map(|(_, v)| v.to_string())
        }
    }
}

/// One property as written, unfolded, without the line end.
pub fn entry_line(entry: &ICalendarEntry) -> String {
    let mut out = String::new();
    if entry.write_to(&mut out).is_err() {
        return String::new();
    }
    out.replace("\r\n ", "")
        .replace("\r\n\t", "")
        .trim_end_matches(['\r', '\n'])
        .to_string()
}

/// The written value of a property (after the colon, unfolded), with
/// parameters removed. Useful for comparisons and display of RRULE etc.
pub fn written_value(entry: &ICalendarEntry) -> String {
    let written = entry_line(entry);
    let line = written.as_str();
    // The first colon outside double quotes ends the name and parameters.
    let mut in_quotes = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ':' if !in_quotes => return line[i + 1..].to_string(),
            _ => {}
        }
    }
    String::new()
}

pub fn integer(comp: &ICalendarComponent, prop: &ICalendarProperty) -> Option<i64> {
    comp.property(prop)?.values.first().and_then(|v| match v {
        ICalendarValue::Integer(i) => Some(*i),
        ICalendarValue::Text(t) => t.trim().parse().ok(),
        _ => None,
    })
}

pub fn date(comp: &ICalendarComponent, prop: &ICalendarProperty) -> Option<CalDate> {
    let entry = comp.property(prop)?;
    CalDate::from_entry(entry).or_else(|| match entry.values.first() {
        Some(ICalendarValue::Text(t)) => CalDate::parse_text(t),
        _ => None,
    })
}

/// The text form of a parameter value.
pub fn param_text(value: &ICalendarParameterValue) -> Option<String> {
    match value {
        ICalendarParameterValue::Text(t) => Some(t.clone()),
        ICalendarParameterValue::Uri(u) => u.as_str().map(str::to_string),
        ICalendarParameterValue::Bool(b) => Some(if *b { "TRUE" } else { "FALSE" }.to_string()),
        ICalendarParameterValue::Integer(i) => Some(i.to_string()),
        ICalendarParameterValue::Null => None,
        other => other.as_text().map(str::to_string),
    }
}

pub fn param(entry: &ICalendarEntry, name: &ICalendarParameterName) -> Option<String> {
    entry.parameter(name).and_then(param_text)
}

/// All texts of a (possibly multi-valued) parameter, e.g. MEMBER.
pub fn params(entry: &ICalendarEntry, name: &ICalendarParameterName) -> Vec<String> {
    entry.parameters(name).filter_map(param_text).collect()
}

pub fn remove_params(entry: &mut ICalendarEntry, names: &[ICalendarParameterName]) {
    entry.params.retain(|p| !names.contains(&p.name));
}

pub fn set_param(entry: &mut ICalendarEntry, param: ICalendarParameter) {
    let name = param.name.clone();
    let pos = entry.params.iter().position(|p| p.name == name);
    entry.params.retain(|p| p.name != name);
    match pos {
        Some(pos) if pos <= entry.params.len() => entry.params.insert(pos, param),
        _ => entry.params.push(param),
    }
}

pub fn other_param(name: &str) -> ICalendarParameterName {
    ICalendarParameterName::Other(name.to_string())
}

pub fn other_prop(name: &str) -> ICalendarProperty {
    ICalendarProperty::Other(name.to_string())
}

/// Replace (or add) the single property `name` with `entry`, keeping its
/// position when it existed.
pub fn set_property(comp: &mut ICalendarComponent, entry: ICalendarEntry) {
    if let Some(pos) = comp.entries.iter().position(|e| e.name == entry.name) {
        let name = entry.name.clone();
        if let Some(slot) = comp.entries.get_mut(pos) {
            *slot = entry;
        }
        let mut seen = false;
        comp.entries.retain(|e| {
            if e.name != name {
                return true;
            }
            if seen {
                return false;
            }
            seen = true;
            true
        });
    } else {
        comp.entries.push(entry);
    }
}

pub fn remove_property(comp: &mut ICalendarComponent, name: &ICalendarProperty) {
    comp.entries.retain(|e| &e.name != name);
}

/// Build a calendar with VCALENDAR properties and the given components as
/// direct children (each component with its own sub-components).
pub struct CalendarBuilder {
    cal: ICalendar,
}

impl CalendarBuilder {
    pub fn new(root_entries: Vec<ICalendarEntry>) -> Self {
        let mut root = ICalendarComponent::new(ICalendarComponentType::VCalendar);
        root.entries = root_entries;
        CalendarBuilder {
            cal: ICalendar {
                components: vec![root],
            },
        }
    }

    /// Add component `id` of `source`, with its whole subtree, as a child
    /// of the root. `map` transforms the top component's entries.
    pub fn add_from(
        &mut self,
        source: &ICalendar,
        id: u32,
        map: impl FnOnce(ICalendarComponent) -> ICalendarComponent,
    ) -> Option<u32> {
        let comp = source.components.get(id as usize)?.clone();
        let comp = map(comp);
        let new_id = self.add_tree(source, comp)?;
        if let Some(root) = self.cal.components.first_mut() {
            root.component_ids.push(new_id);
        }
        Some(new_id)
    }

    /// Add a ready component (its children are looked up in `source`).
    fn add_tree(&mut self, source: &ICalendar, mut comp: ICalendarComponent) -> Option<u32> {
        let child_ids = std::mem::take(&mut comp.component_ids);
        let new_id = u32::try_from(self.cal.components.len()).ok()?;
        self.cal.components.push(comp);
        let mut new_children = Vec::new();
        for child in child_ids {
            if let Some(c) = source.components.get(child as usize)
                && let Some(cid) = self.add_tree(source, c.clone())
            {
                new_children.push(cid);
            }
        }
        if let Some(slot) = self.cal.components.get_mut(new_id as usize) {
            slot.component_ids = new_children;
        }
        Some(new_id)
    }

    /// Add component `child` of `source` (with its subtree) under `parent`.
    pub fn add_child_tree(&mut self, parent: u32, source: &ICalendar, child: u32) -> Option<u32> {
        let comp = source.components.get(child as usize)?.clone();
        let id = self.add_tree(source, comp)?;
        self.cal
            .components
            .get_mut(parent as usize)?
            .component_ids
            .push(id);
        Some(id)
    }

    /// Add a standalone component (no children) as a child of the root.
    pub fn add_component(&mut self, comp: ICalendarComponent) -> Option<u32> {
        let new_id = u32::try_from(self.cal.components.len()).ok()?;
        let mut comp = comp;
        comp.component_ids.clear();
        self.cal.components.push(comp);
        if let Some(root) = self.cal.components.first_mut() {
            root.component_ids.push(new_id);
        }
        Some(new_id)
    }

    pub fn build(self) -> ICalendar {
        self.cal
    }
}

/// A copy of `cal` keeping only the root children for which `keep` is true
/// (with their subtrees), renumbered so the writer sees a consistent tree.
pub fn filter_root(
    cal: &ICalendar,
    mut keep: impl FnMut(u32, &ICalendarComponent) -> bool,
) -> ICalendar {
    let root_entries = cal
        .components
        .first()
        .map(|c| c.entries.clone())
        .unwrap_or_default();
    let mut b = CalendarBuilder::new(root_entries);
    for id in children(cal, 0) {
        if let Some(c) = cal.components.get(id as usize)
            && keep(id, c)
        {
            b.add_from(cal, id, |c| c);
        }
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIMPLE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:abc\r\nDTSTAMP:20250101T120000Z\r\nDTSTART;TZID=Europe/Berlin:20250106T090000\r\nDTEND;VALUE=DATE:20250107\r\nSUMMARY:Caf\u{e9}\\, and \\;more\r\nORGANIZER;CN=\"Doe, Jane\":mailto:jane@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn parses_and_reads_values() {
        let parsed = parse(SIMPLE).unwrap();
        assert_eq!(parsed.calendars.len(), 1);
        let cal = &parsed.calendars[0];
        let ids = scheduling_ids(cal);
        assert_eq!(ids.len(), 1);
        let ev = component(cal, ids[0]).unwrap();
        assert_eq!(
            text(ev, &ICalendarProperty::Summary).unwrap(),
            "Café, and ;more"
        );
        assert_eq!(
            date(ev, &ICalendarProperty::Dtstart).unwrap(),
            CalDate::Zoned {
                tzid: "Europe/Berlin".into(),
                local: NaiveDate::from_ymd_opt(2025, 1, 6)
                    .unwrap()
                    .and_hms_opt(9, 0, 0)
                    .unwrap()
            }
        );
        assert!(date(ev, &ICalendarProperty::Dtend).unwrap().is_date());
        assert!(matches!(
            date(ev, &ICalendarProperty::Dtstamp).unwrap(),
            CalDate::Utc(_)
        ));
    }

    /// T08: bare LF input is parsed; output is CRLF.
    #[test]
    fn t08_bare_lf_parsed_and_written_crlf() {
        let lf = SIMPLE.replace("\r\n", "\n");
        let parsed = parse(&lf).unwrap();
        let out = write(&parsed.calendars[0]);
        assert!(out.contains("\r\n"));
        assert!(!out.replace("\r\n", "").contains('\n'));
    }

    /// T12, R8.13: the mistakes of the RFC examples are read with warnings
    /// and nothing invalid is written back.
    #[test]
    fn t12_lenient_inputs_are_repaired_with_warnings() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTAMP:19970603T094000\r\nDTSTART:19970621T170000Z\r\nDTEND:199706211T173000Z\r\nORGANIZER:foo1@example.com\r\nATTENDEE;RSVP=YES:mailto:me@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let parsed = parse(text).unwrap();
        let all = parsed.warnings.join("\n");
        assert!(all.contains("DTSTAMP 19970603T094000 has no Z"), "{all}");
        assert!(
            all.contains("DTEND \"199706211T173000Z\" is not a date"),
            "{all}"
        );
        assert!(
            all.contains("ORGANIZER \"foo1@example.com\" has no mailto:"),
            "{all}"
        );
        assert!(all.contains("RSVP=YES"), "{all}");
        let out = write(&parsed.calendars[0]);
        assert!(out.contains("DTSTAMP:19970603T094000Z\r\n"), "{out}");
        assert!(!out.contains("DTEND"), "{out}");
        assert!(out.contains("DTSTART:19970621T170000Z\r\n"), "{out}");
        assert!(
            out.contains("ATTENDEE;RSVP=TRUE:mailto:me@example.com"),
            "{out}"
        );
    }

    #[test]
    fn bom_is_accepted() {
        let parsed = parse(&format!("\u{feff}{SIMPLE}")).unwrap();
        assert_eq!(parsed.calendars.len(), 1);
    }

    /// T10: oversized calendar data is rejected.
    #[test]
    fn t10_too_large_is_rejected() {
        let big = "X".repeat(MAX_CALENDAR_BYTES + 1);
        assert!(matches!(parse(&big), Err(IcalError::TooLarge { .. })));
    }

    #[test]
    fn t10_too_many_attendees_rejected() {
        let mut s = String::from("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n");
        for i in 0..(MAX_ATTENDEES + 1) {
            s.push_str(&format!("ATTENDEE:mailto:a{i}@x.example\r\n"));
        }
        s.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
        assert!(matches!(parse(&s), Err(IcalError::TooManyAttendees { .. })));
    }

    #[test]
    fn no_calendar_is_an_error() {
        assert_eq!(parse("hello").unwrap_err(), IcalError::NoCalendar);
    }

    #[test]
    fn caldate_roundtrips_through_entries() {
        for d in [
            CalDate::Date(NaiveDate::from_ymd_opt(2025, 1, 13).unwrap()),
            CalDate::Utc(
                NaiveDate::from_ymd_opt(2025, 1, 13)
                    .unwrap()
                    .and_hms_opt(8, 0, 0)
                    .unwrap(),
            ),
            CalDate::Zoned {
                tzid: "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris".into(),
                local: NaiveDate::from_ymd_opt(2025, 1, 13)
                    .unwrap()
                    .and_hms_opt(9, 0, 0)
                    .unwrap(),
            },
        ] {
            let e = d.to_entry(ICalendarProperty::RecurrenceId);
            assert_eq!(CalDate::from_entry(&e).unwrap(), d);
        }
    }

    #[test]
    fn filter_root_renumbers() {
        let cal = &parse(SIMPLE).unwrap().calendars[0];
        let none = filter_root(cal, |_, _| false);
        assert!(scheduling_ids(&none).is_empty());
        let all = filter_root(cal, |_, _| true);
        assert_eq!(write(&all), write(cal));
    }
}
