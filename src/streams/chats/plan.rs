//! The backfill's time slices and the shared progress: which slice has fetched and committed
//! how far, and each member's live window. Splitting decides where a new worker starts.

use super::state::{self, Window};
use super::LIMIT;
use crate::streams::coverage::{Coverage, Position};

/// A time slice of the export read by one worker: chats after `start` and before second `end`
/// (`None`: to the end of the export).
pub struct Slice {
    pub start: Position,
    pub end: Option<i64>,
    /// The highest chat fetched so far; a split never cuts at or below it.
    pub fetched: Position,
    /// Everything in (`start`, `done`] is committed.
    pub done: Position,
    /// Chats fetched so far, to estimate how much is left.
    pub chats_fetched: u64,
    /// The second of the first chat fetched: density is measured from where the data is, not
    /// from the slice start (which may lie years before the first chat).
    pub first_seen: Option<i64>,
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
            first_seen: None,
            finished: false,
        }
    }

    /// Chats expected between what was fetched and the end, from the density seen so far.
    fn expected_remaining(&self, ceiling: i64) -> u64 {
        let from = self.first_seen.unwrap_or(self.start.secs);
        let seen_secs = self.fetched.secs.saturating_sub(from).max(1) as u64;
        let left = self
            .end
            .unwrap_or(ceiling)
            .saturating_sub(self.fetched.secs);
        self.chats_fetched.saturating_mul(left.max(0) as u64) / seen_secs
    }
}

/// Slices and what they committed, shared by the workers; writing output under this lock keeps
/// every STATE after the records it covers.
pub struct Progress {
    pub slices: Vec<Slice>,
    /// Per member: the chats emitted in the live window (saved ones, then this sync's).
    pub windows: Vec<Window>,
}

/// Slices shorter than this are not split further.
const MIN_SLICE_SECS: i64 = 3600;

/// A split leaves the old slice at most this many times the span it has seen chats in.
const AHEAD: i64 = 4;

/// A slice is split only when it is expected to hold at least this many more chats.
const MIN_SPLIT_CHATS: u64 = 4 * LIMIT as u64;

impl Progress {
    /// The committed coverage of a member: its input plus every slice's committed range.
    pub fn coverage(&self, input: &Coverage) -> Coverage {
        let mut c = input.clone();
        for s in &self.slices {
            c.add(s.start.clone(), s.done.clone());
        }
        c
    }

    /// The state of member `m`, after dropping from its window what the coverage commits.
    pub fn state_of(&mut self, m: usize, input: &Coverage) -> serde_json::Value {
        let coverage = self.coverage(input);
        match self.windows.get_mut(m) {
            Some(w) => {
                state::prune(w, &coverage);
                state::to_state(&coverage, w)
            }
            None => coverage.to_state(),
        }
    }

    /// Splits the unfinished slice expected to hold the most chats, when it should still fill a
    /// few pages (every split costs one partly used page). Returns the new slice's index.
    pub fn split(&mut self, ceiling: i64) -> Option<usize> {
        let (index, expected) = self
            .slices
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.finished && s.chats_fetched > 0)
            .map(|(i, s)| (i, s.expected_remaining(ceiling)))
            .max_by_key(|(_, r)| *r)?;
        let old = &mut self.slices[index];
        let remaining = old.end.unwrap_or(ceiling).saturating_sub(old.fetched.secs);
        if expected < MIN_SPLIT_CHATS || remaining < 2 * MIN_SLICE_SECS {
            return None;
        }
        // Cut near the data, not at the time midpoint: at most AHEAD times the span the slice
        // has seen chats in, so a split of a range whose chats lie at one end (or in bursts)
        // lands where chats are, and the new slice's first page is real data.
        let seen = old
            .fetched
            .secs
            .saturating_sub(old.first_seen.unwrap_or(old.start.secs))
            .max(1);
        let ahead = (remaining / 2).min(seen.saturating_mul(AHEAD).max(MIN_SLICE_SECS));
        let cut = old.fetched.secs.saturating_add(ahead);
        let end = old.end.replace(cut);
        self.slices.push(Slice::new(Position::start_of(cut), end));
        Some(self.slices.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(start: i64, end: Option<i64>, fetched: i64, chats_fetched: u64) -> Slice {
        let mut s = Slice::new(Position::start_of(start), end);
        s.fetched = Position::start_of(fetched);
        s.chats_fetched = chats_fetched;
        s
    }

    fn progress(slices: Vec<Slice>) -> Progress {
        Progress {
            slices,
            windows: Vec::new(),
        }
    }

    #[test]
    fn split_halves_the_slice_expected_to_hold_most_above_what_it_fetched() {
        // Slice 0: 9,000 chats in 90,000 s, 10,000 s left (~1,000 expected). Slice 1: 1,000 chats
        // in its first 10,000 s, 190,000 s left (~19,000 expected).
        let mut p = progress(vec![
            slice(0, Some(100_000), 90_000, 9_000),
            slice(100_000, None, 110_000, 1_000),
        ]);
        let i = p.split(300_000).unwrap();
        // 4 x the 10,000 s seen, not half of the 190,000 s left.
        assert_eq!(p.slices[1].end, Some(150_000));
        assert_eq!(p.slices[i].start, Position::start_of(150_000));
        assert_eq!(p.slices[i].end, None);
        // Too few chats expected anywhere: no split, however much time is left.
        let mut p = progress(vec![slice(0, None, 100_000, 10)]);
        assert!(p.split(10_000_000).is_none());
        // Nothing fetched yet: no estimate, no split.
        let mut p = progress(vec![slice(0, None, 0, 0)]);
        assert!(p.split(10_000_000).is_none());
    }

    #[test]
    fn density_is_measured_from_the_first_chat_not_the_slice_start() {
        // 2,000 chats fetched in the 100,000 s since the first chat, years after the start.
        let mut late = slice(0, None, 9_500_000, 2_000);
        late.first_seen = Some(9_400_000);
        assert_eq!(late.expected_remaining(10_000_000), 10_000);
        let mut p = progress(vec![late]);
        assert_eq!(p.split(10_000_000), Some(1));
        assert_eq!(p.slices[1].start, Position::start_of(9_750_000));
        // Chats packed at the start of a long range: the cut stays near them.
        let mut early = slice(0, None, 1_000, 5_000);
        early.first_seen = Some(0);
        let mut p = progress(vec![early]);
        assert_eq!(p.split(100_000_000), Some(1));
        assert_eq!(p.slices[1].start, Position::start_of(1_000 + 4 * 1_000));
        // Measured from the slice start the same data looks too thin to split.
        let mut p = progress(vec![slice(0, None, 9_500_000, 2_000)]);
        assert!(p.split(10_000_000).is_none());
    }

    #[test]
    fn coverage_joins_slices_to_the_input() {
        let mut p = progress(vec![slice(0, Some(100), 0, 0), slice(100, None, 100, 0)]);
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
}
