//! The backfill's time slices and the shared progress: which slice has fetched and committed
//! how far, and each member's live window. Planning decides where new workers start, from the
//! data the pages showed rather than from the configured range:
//!
//! The same planner serves every export; "chats" below means any export's items, and seconds its
//! cursor units (µs for the timeline, whose cuts fall on whole seconds).
//!
//! - Density is measured per page: the upper half of the last page's chats and the seconds
//!   they span ([`Sample`]), so a page that crosses a gap, or a range that starts years before
//!   its first chat, still measures the data the slice is in now.
//! - Probing: when the first page shows that the data it covers is a small part of the range
//!   left, the range is cut once at equal time quantiles and each cut is read by a new slice.
//!   Each probe's first page is real data for its slice (a gap before it is skipped for free);
//!   a probe beyond the last chat answers an empty page and finishes, closing that part of the
//!   range after one request.
//! - Splitting: the slice expected to hold the most chats (its last page's density times the
//!   seconds it has left) is cut near its data, [`AHEAD`] pages ahead of what it fetched at that
//!   density, or at the half of what it has left when that is less.

use super::coverage::{Coverage, Position};
use super::driver::EXPORT_LIMIT as LIMIT;
use super::live_edge::Window;

/// What a page said about the density where it was read: `chats` items in the `secs` cursor
/// units (seconds, or µs for the timeline) from the page's median item to its highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub chats: u64,
    pub secs: i64,
}

impl Sample {
    /// The sample of a page whose chats lie at `secs` (any order); `None` for an empty page.
    pub fn of(secs: &mut [i64]) -> Option<Sample> {
        let high = *secs.iter().max()?;
        let (len, mid) = (secs.len(), secs.len() / 2);
        let (_, median, _) = secs.select_nth_unstable(mid);
        Some(Sample {
            chats: (len - mid) as u64,
            secs: high.saturating_sub(*median).max(1),
        })
    }

    /// Chats expected in `secs` seconds at this density.
    fn chats_in(&self, secs: i64) -> u64 {
        let secs = secs.max(0) as u128;
        (u128::from(self.chats) * secs / self.secs as u128).min(u64::MAX as u128) as u64
    }

    /// Seconds one full page covers at this density.
    fn page_secs(&self) -> i64 {
        let secs = i128::from(self.secs) * i128::from(LIMIT) / i128::from(self.chats.max(1));
        secs.clamp(1, i64::MAX as i128) as i64
    }
}

/// A time slice of the export read by one worker: chats after `start` and before second `end`
/// (`None`: to the end of the export).
pub struct Slice {
    pub start: Position,
    pub end: Option<i64>,
    /// The highest chat fetched so far; a split never cuts at or below it.
    pub fetched: Position,
    /// Everything in (`start`, `done`] is committed.
    pub done: Position,
    /// Chats fetched so far.
    pub chats_fetched: u64,
    /// The density of the last page with chats: the estimate of what is left.
    pub recent: Option<Sample>,
    pub finished: bool,
}

impl Slice {
    pub fn new(start: Position, end: Option<i64>) -> Self {
        Self {
            fetched: start.clone(),
            done: start.clone(),
            start,
            end,
            chats_fetched: 0,
            recent: None,
            finished: false,
        }
    }

    /// Seconds between what was fetched and the end.
    fn left_secs(&self, ceiling: i64) -> i64 {
        self.end
            .unwrap_or(ceiling)
            .saturating_sub(self.fetched.secs)
            .max(0)
    }

    /// Chats expected between what was fetched and the end, at the density of the last page.
    fn expected_remaining(&self, ceiling: i64) -> u64 {
        self.recent
            .map_or(0, |s| s.chats_in(self.left_secs(ceiling)))
    }

    /// Cuts this slice at second `cut` (above what it fetched): the new slice takes the rest.
    fn cut_at(&mut self, cut: i64) -> Slice {
        let end = self.end.replace(cut);
        Slice::new(Position::start_of(cut), end)
    }
}

/// Slices and what they committed, shared by the workers; writing output under this lock keeps
/// every STATE after the records it covers.
pub struct Progress {
    pub slices: Vec<Slice>,
    /// Per member: the chats emitted in the live window (saved ones, then this sync's).
    pub windows: Vec<Window>,
    /// True once the range was probed (or found not worth probing): probing happens once.
    pub probed: bool,
    /// Cursor units per second (1, or 1,000,000 for µs): cuts fall on whole seconds, so the
    /// items of one second are read by one slice.
    pub unit: i64,
}

/// Slices shorter than this are not split further.
const MIN_SLICE_SECS: i64 = 3600;

/// A split leaves the old slice at most this many pages ahead, at the density it measured.
const AHEAD: i64 = 4;

/// A slice is split only when it is expected to hold at least this many more chats (two pages:
/// a split costs an eighth of a page, and splitting late keeps the slots busy to the end).
const MIN_SPLIT_CHATS: u64 = 2 * LIMIT as u64;

/// The range is probed when what is left is longer than this many of the first page's spans
/// per probe (shorter ranges are reached as fast by splitting near the data).
const PROBE_PAGES: i64 = 16;

/// At most this many probes, whatever `backfill_concurrency` is: every probe past the last
/// chat costs a request.
const MAX_PROBES: usize = 3;

impl Progress {
    pub fn new(slices: Vec<Slice>, windows: Vec<Window>, unit: i64) -> Self {
        Self {
            slices,
            windows,
            probed: false,
            unit: unit.max(1),
        }
    }

    /// `t` moved up to a whole second.
    fn whole_second(&self, t: i64) -> i64 {
        let rem = t.rem_euclid(self.unit);
        if rem == 0 {
            t
        } else {
            t.saturating_add(self.unit - rem)
        }
    }

    /// The committed coverage of a member: its input plus every slice's committed range.
    pub fn coverage(&self, input: &Coverage) -> Coverage {
        let mut c = input.clone();
        for s in &self.slices {
            c.add(s.start.clone(), s.done.clone());
        }
        c
    }

    /// New slices for `free` idle workers: the probes first (once), then splits. Returns the
    /// new slices' indexes.
    pub fn plan(&mut self, ceiling: i64, free: usize) -> Vec<usize> {
        let mut new = self.probe(ceiling, free.saturating_sub(1).min(MAX_PROBES));
        while new.len() < free {
            match self.split(ceiling) {
                Some(index) => new.push(index),
                None => break,
            }
        }
        new
    }

    /// Probes the range left after the first page of a lone slice: cuts it at `n` equal time
    /// quantiles when the page's data covers a small part of it (see [`PROBE_PAGES`]).
    pub fn probe(&mut self, ceiling: i64, n: usize) -> Vec<usize> {
        let [lone] = self.slices.as_mut_slice() else {
            return Vec::new();
        };
        let Some(sample) = lone.recent.filter(|_| !self.probed && !lone.finished) else {
            return Vec::new();
        };
        self.probed = true;
        let (from, left) = (lone.fetched.secs, lone.left_secs(ceiling));
        let parts = n as i64 + 1;
        if n == 0 || left / parts < PROBE_PAGES.saturating_mul(sample.page_secs()) {
            return Vec::new();
        }
        // Cut from the highest quantile down, so each new slice ends where the previous began.
        let mut new = Vec::with_capacity(n);
        for k in (1..parts).rev() {
            let cut = self.whole_second(from.saturating_add(left / parts * k));
            let probe = self.slices[0].cut_at(cut);
            self.slices.push(probe);
            new.push(self.slices.len() - 1);
        }
        new
    }

    /// Splits the unfinished slice expected to hold the most chats, when it should still fill a
    /// few pages (every split costs one partly used page). Returns the new slice's index.
    pub fn split(&mut self, ceiling: i64) -> Option<usize> {
        let (index, expected) = self
            .slices
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.finished)
            .map(|(i, s)| (i, s.expected_remaining(ceiling)))
            .max_by_key(|(_, r)| *r)?;
        let min_slice = MIN_SLICE_SECS.saturating_mul(self.unit);
        let old = &self.slices[index];
        let left = old.left_secs(ceiling);
        let sample = old.recent?;
        if expected < MIN_SPLIT_CHATS || left < 2 * min_slice {
            return None;
        }
        let ahead = ahead_of(sample.page_secs(), expected, min_slice).min(left / 2);
        let cut = self.whole_second(old.fetched.secs.saturating_add(ahead));
        let new = self.slices[index].cut_at(cut);
        self.slices.push(new);
        Some(self.slices.len() - 1)
    }
}

/// How far ahead of what a slice fetched a split cuts it, at `page` seconds a page: near the
/// data rather than at the time midpoint (AHEAD pages, fewer when fewer are expected, at least
/// `min_slice`), so in a burst the new slice's first page is real data too; and just short of a
/// page boundary, so the old slice's last page crosses the cut by an eighth of a page instead of
/// taking one more request that mostly re-reads the new slice.
fn ahead_of(page: i64, expected: u64, min_slice: i64) -> i64 {
    let wanted = (expected / u64::from(LIMIT) / 2).clamp(1, AHEAD as u64) as i64;
    let at_least = min_slice.saturating_add(page - 1) / page.max(1);
    let pages = wanted.max(at_least);
    pages.saturating_mul(page).saturating_sub(page / 8).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slice that fetched `chats_fetched` chats up to second `fetched`, its last page
    /// measuring `recent` (chats, secs).
    fn slice(start: i64, end: Option<i64>, fetched: i64, recent: Option<(u64, i64)>) -> Slice {
        let mut s = Slice::new(Position::start_of(start), end);
        s.fetched = Position::start_of(fetched);
        s.recent = recent.map(|(chats, secs)| Sample { chats, secs });
        s.chats_fetched = s.recent.map_or(0, |r| 2 * r.chats);
        s
    }

    fn progress(slices: Vec<Slice>) -> Progress {
        Progress::new(slices, Vec::new(), 1)
    }

    #[test]
    fn a_sample_measures_the_upper_half_of_a_page() {
        // One chat years before the rest (a page that crossed a gap): the sample is the burst's.
        let mut secs: Vec<i64> = (0..999).map(|i| 50_000_000 + i * 10).collect();
        secs.push(1_000);
        let s = Sample::of(&mut secs).unwrap();
        assert_eq!(s.chats, 500);
        assert!(s.secs < 5_000, "{s:?}");
        assert!(
            (9_900..=10_100).contains(&s.page_secs()),
            "{}",
            s.page_secs()
        );
        assert_eq!(Sample::of(&mut []), None);
        // Every chat in one second: the density is finite.
        assert_eq!(Sample::of(&mut [7; 10]).map(|s| s.secs), Some(1));
    }

    #[test]
    fn split_cuts_the_slice_expected_to_hold_most_near_its_data() {
        // Slice 0: 1,000 s left at 1 chat/s (~1,000 expected). Slice 1: 190,000 s left at 0.1
        // chats/s (~19,000 expected); a page spans 10,000 s there.
        let mut p = progress(vec![
            slice(0, Some(100_000), 99_000, Some((500, 500))),
            slice(100_000, None, 110_000, Some((500, 5_000))),
        ]);
        let i = p.split(300_000).unwrap();
        // AHEAD (4) pages ahead at that density less an eighth of a page (the old slice's last
        // page crosses the cut a little), not half of the 190,000 s left.
        assert_eq!(p.slices[1].end, Some(148_750));
        assert_eq!(p.slices[i].start, Position::start_of(148_750));
        assert_eq!(p.slices[i].end, None);
        // Too few chats expected anywhere: no split, however much time is left.
        let mut p = progress(vec![slice(0, None, 100_000, Some((5, 100_000)))]);
        assert!(p.split(10_000_000).is_none());
        // Nothing fetched yet: no estimate, no split.
        let mut p = progress(vec![slice(0, None, 0, None)]);
        assert!(p.split(10_000_000).is_none());
        // Five pages expected: the old slice keeps two of them (less an eighth of a page).
        let mut p = progress(vec![slice(0, Some(30_000), 10_000, Some((500, 2_000)))]);
        assert_eq!(p.split(10_000_000), Some(1));
        assert_eq!(p.slices[1].start, Position::start_of(17_500));
    }

    #[test]
    fn density_is_the_last_pages_not_the_slices_since_its_first_chat() {
        // The slice's first page crossed a gap of months (its first chat was at 1,000), its last
        // page is in a burst of 1 chat/s. The old estimate (all chats over the seconds since the
        // first chat: 2,000 in 9.5 million) refused to split; the burst holds far more.
        let mut p = progress(vec![slice(0, None, 9_500_000, Some((500, 500)))]);
        assert!(p.slices[0].expected_remaining(10_000_000) >= 100_000);
        assert_eq!(p.split(10_000_000), Some(1));
        assert_eq!(p.slices[1].start, Position::start_of(9_503_875));
    }

    #[test]
    fn a_lone_slice_probes_the_range_its_data_does_not_reach_once() {
        // The first page covered 10,000 s; 990,000 s are left: three probes at the quartiles.
        let mut p = progress(vec![slice(0, None, 10_000, Some((500, 5_000)))]);
        let new = p.plan(1_000_000, 4);
        assert_eq!(new.len(), 4, "three probes and a split near the data");
        let bounds: Vec<(i64, Option<i64>)> =
            p.slices.iter().map(|s| (s.start.secs, s.end)).collect();
        assert_eq!(
            bounds[..4],
            [
                (0, Some(48_750)),
                (752_500, None),
                (505_000, Some(752_500)),
                (257_500, Some(505_000))
            ]
        );
        // Then the split near the data: 4 pages of 10,000 s ahead of what slice 0 fetched, less
        // an eighth of a page.
        assert_eq!(
            (p.slices[4].start.secs, p.slices[4].end),
            (48_750, Some(257_500))
        );
        // Once only, even with one slice left.
        let mut p = progress(vec![slice(0, None, 10_000, Some((500, 5_000)))]);
        p.probed = true;
        assert!(p.probe(1_000_000, 3).is_empty());
        // Data that fills the range: no probes, splits near the data do.
        let mut p = progress(vec![slice(0, None, 10_000, Some((500, 5_000)))]);
        assert!(p.probe(200_000, 3).is_empty());
        assert!(p.probed, "judged once");
        // Before the first page there is nothing to plan from.
        let mut p = progress(vec![slice(0, None, 0, None)]);
        assert!(p.plan(1_000_000, 4).is_empty());
        assert!(!p.probed);
    }

    #[test]
    fn coverage_joins_slices_to_the_input() {
        let mut p = progress(vec![
            slice(0, Some(100), 0, None),
            slice(100, None, 100, None),
        ]);
        p.slices[1].done = Position {
            secs: 150,
            id: "x".into(),
        };
        let input = Coverage::up_to(Position::start_of(0));
        let c = p.coverage(&input);
        assert_eq!(c.frontier, Position::start_of(0));
        assert_eq!(c.ranges.len(), 1);
        p.slices[0].done = Position::start_of(100);
        assert_eq!(
            p.coverage(&input),
            Coverage::up_to(Position {
                secs: 150,
                id: "x".into()
            })
        );
    }

    /// Reads `chats` (sorted seconds) in rounds of one page per running slice, planning after
    /// every round as the orchestrator does; returns (rounds, requests, slices running per
    /// round) and checks that every chat was read by exactly one slice.
    fn simulate(chats: &[i64], ceiling: i64, workers: usize) -> (usize, usize, Vec<usize>) {
        let pos = |i: usize| Position {
            secs: chats[i],
            id: format!("{i:08}"),
        };
        let mut p = progress(vec![Slice::new(Position::start_of(0), None)]);
        let mut cursors: Vec<Position> = vec![Position::start_of(0)];
        let mut read = vec![0u32; chats.len()];
        let (mut rounds, mut requests, mut running) = (0, 0, Vec::new());
        loop {
            let active: Vec<usize> = (0..p.slices.len())
                .filter(|&i| !p.slices[i].finished)
                .collect();
            if active.is_empty() {
                break;
            }
            rounds += 1;
            running.push(active.len());
            for i in active {
                requests += 1;
                let at = cursors[i].clone();
                let page: Vec<usize> = (0..chats.len())
                    .filter(|&c| pos(c) > at)
                    .take(LIMIT as usize)
                    .collect();
                let s = &mut p.slices[i];
                let end = s.end;
                for &c in &page {
                    if pos(c) > s.start && end.is_none_or(|e| chats[c] < e) {
                        read[c] += 1;
                    }
                }
                let mut secs: Vec<i64> = page.iter().map(|&c| chats[c]).collect();
                s.recent = Sample::of(&mut secs).or(s.recent);
                s.chats_fetched += page.len() as u64;
                if let Some(&last) = page.last() {
                    s.fetched = pos(last).max(s.fetched.clone());
                    cursors[i] = pos(last);
                }
                let beyond = page
                    .last()
                    .is_some_and(|&c| end.is_some_and(|e| chats[c] >= e));
                s.finished = page.len() < LIMIT as usize || beyond;
            }
            let running_now = p.slices.iter().filter(|s| !s.finished).count();
            p.plan(ceiling, workers.saturating_sub(running_now));
            // A new slice's first request starts at its start.
            for i in cursors.len()..p.slices.len() {
                cursors.push(p.slices[i].start.clone());
            }
        }
        assert!(read.iter().all(|&n| n == 1), "every chat read exactly once");
        (rounds, requests, running)
    }

    #[test]
    fn bursts_are_found_early_and_read_by_every_worker() {
        // Four bursts of 8 pages each in the first third of a range of 90 million seconds, with
        // empty gaps (the bench's bursts layout).
        let mut chats = Vec::new();
        for centre in [3_000_000, 12_000_000, 21_000_000, 28_500_000] {
            chats.extend((0..8_000).map(|i| centre + i * 30));
        }
        let (rounds, requests, running) = simulate(&chats, 90_000_000, 4);
        // 32 pages on 4 workers: 8 rounds at best, plus the first page, probes and boundaries.
        assert!(rounds <= 13, "{rounds} rounds, {running:?}");
        assert!(requests <= 48, "{requests} requests");
        // Four workers from the second round on, until the tail.
        assert!(
            running[1..rounds - 3].iter().all(|&n| n == 4),
            "{running:?}"
        );
    }

    #[test]
    fn a_probe_in_a_gap_or_past_the_last_chat_costs_one_request() {
        // All chats in the first 2% of the range: the probes find nothing and finish at once.
        let chats: Vec<i64> = (0..20_000).map(|i| 1_000 + i * 90).collect();
        let (rounds, requests, running) = simulate(&chats, 90_000_000, 4);
        assert!(rounds <= 9, "{rounds} rounds, {running:?}");
        assert!(requests <= 30, "{requests} requests");
        assert_eq!(running[1], 4, "three probes and the first slice");
    }
}
