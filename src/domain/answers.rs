//! My answers to a stored event, per occurrence against the series (issue 7
//! item 4): what the listing shows when I answered some occurrences apart
//! from the series, e.g. "1 occurrence declined · series needs an answer".

use super::diff::Clock;
use super::ical::CalDate;
use super::identity::Identity;
use super::invite::{Comp, Invite, PartStat};

/// One occurrence whose answer differs from the series'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccurrenceAnswer {
    /// Its RECURRENCE-ID as stored.
    pub recurrence_id: CalDate,
    /// "Tue 2026-12-22 09:30 CET", from [`Clock::format`].
    pub when: String,
    pub partstat: PartStat,
}

/// My answer to the series and the occurrences answered apart from it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnswerSummary {
    /// My answer to the master (`None`: no master, or it does not list me).
    pub series: Option<PartStat>,
    /// Overrides where my answer is not the series' answer, in time order.
    pub occurrences: Vec<OccurrenceAnswer>,
}

fn mine(c: Comp<'_>, me: &Identity) -> Option<PartStat> {
    c.attendees()
        .into_iter()
        .find(|a| me.party_is_me(a))
        .map(|a| a.partstat)
}

/// Summarise my answers in a stored event.
pub fn summarize(stored: &Invite, me: &Identity, clock: &Clock) -> AnswerSummary {
    let series = stored.master().and_then(|m| mine(m, me));
    let mut occurrences: Vec<OccurrenceAnswer> = stored
        .overrides()
        .into_iter()
        .filter(|o| !o.is_cancelled())
        .filter_map(|o| {
            let partstat = mine(o, me)?;
            let rid = o.recurrence_id()?;
            (Some(partstat) != series).then(|| OccurrenceAnswer {
                when: clock.format(&rid, &stored.cal),
                recurrence_id: rid,
                partstat,
            })
        })
        .collect();
    occurrences.sort_by_key(|o| clock.instant(&o.recurrence_id, &stored.cal));
    AnswerSummary {
        series,
        occurrences,
    }
}

fn word(p: PartStat) -> &'static str {
    match p {
        PartStat::Accepted => "accepted",
        PartStat::Declined => "declined",
        PartStat::Tentative => "tentative",
        PartStat::Delegated => "delegated",
        PartStat::NeedsAction => "needs an answer",
    }
}

impl AnswerSummary {
    /// Whether some occurrence was answered apart from the series.
    pub fn is_mixed(&self) -> bool {
        !self.occurrences.is_empty()
    }

    /// "1 occurrence declined · series needs an answer"; the occurrence
    /// counts by answer, then the series. Empty for an event without
    /// per-occurrence answers and without a series answer.
    pub fn text(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for p in [
            PartStat::Declined,
            PartStat::Accepted,
            PartStat::Tentative,
            PartStat::Delegated,
            PartStat::NeedsAction,
        ] {
            let n = self.occurrences.iter().filter(|o| o.partstat == p).count();
            if n > 0 {
                let noun = if n == 1 { "occurrence" } else { "occurrences" };
                let verb = if p == PartStat::NeedsAction {
                    if n == 1 {
                        "needs an answer"
                    } else {
                        "need an answer"
                    }
                } else {
                    word(p)
                };
                parts.push(format!("{n} {noun} {verb}"));
            }
        }
        if let Some(s) = self.series {
            parts.push(format!("series {}", word(s)));
        }
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ical;

    fn inv(body: &str) -> Invite {
        let s = format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{body}END:VCALENDAR\r\n");
        Invite::from_calendar(ical::parse(&s).unwrap().calendars.remove(0), None)
            .unwrap()
            .remove(0)
    }

    fn comp(rid: Option<&str>, ps: &str) -> String {
        let rid = rid
            .map(|r| format!("RECURRENCE-ID:{r}\r\nDTSTART:{r}\r\n"))
            .unwrap_or_else(|| "DTSTART:20270101T090000Z\r\nRRULE:FREQ=DAILY;COUNT=9\r\n".into());
        format!(
            "BEGIN:VEVENT\r\nUID:u\r\nDTSTAMP:20250101T000000Z\r\n{rid}ORGANIZER:mailto:o@x.example\r\nATTENDEE;PARTSTAT={ps}:mailto:ME@x.example\r\nEND:VEVENT\r\n"
        )
    }

    fn clock() -> Clock {
        Clock {
            local: chrono_tz::UTC,
        }
    }

    #[test]
    fn item4_summary_counts_occurrences_answered_apart() {
        let me = Identity::new(None, &["me@x.example".into()]);
        let stored = inv(&format!(
            "{}{}{}{}",
            comp(None, "NEEDS-ACTION"),
            comp(Some("20270103T090000Z"), "DECLINED"),
            comp(Some("20270102T090000Z"), "NEEDS-ACTION"),
            comp(Some("20270104T090000Z"), "DECLINED"),
        ));
        let s = summarize(&stored, &me, &clock());
        assert_eq!(s.series, Some(PartStat::NeedsAction));
        assert_eq!(s.occurrences.len(), 2);
        assert!(s.occurrences[0].when.starts_with("Sun 2027-01-03 09:00"));
        assert_eq!(s.text(), "2 occurrences declined · series needs an answer");
        assert!(s.is_mixed());

        let plain = inv(&comp(None, "ACCEPTED"));
        let s = summarize(&plain, &me, &clock());
        assert!(!s.is_mixed());
        assert_eq!(s.text(), "series accepted");
    }
}
