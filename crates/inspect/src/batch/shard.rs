//! Which images of a list one worker takes: shard `index` of `count` (0-based) takes
//! the images at 0-based list positions `i` with `i % count == index`.
//!
//! The assignment depends only on the position in the list, so it is stable as long
//! as every worker reads the same list in the same order (sort it once and store
//! it: `find /images -name '*.qcow2' | LC_ALL=C sort > images.txt`).

use crate::{ErrorKind, InspectError};
use serde::{Deserialize, Serialize};

/// One shard of a list split `count` ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 0-based shard number, `< count` (Kubernetes' `JOB_COMPLETION_INDEX`, Slurm's
    /// `SLURM_ARRAY_TASK_ID` with `--array=0-N`).
    pub index: u64,
    /// How many shards the list is split into.
    pub count: u64,
}

impl Shard {
    /// Shard `index` of `count` (0-based), checked.
    pub fn new(index: u64, count: u64) -> Result<Shard, InspectError> {
        if count == 0 || index >= count {
            return Err(InspectError::new(
                ErrorKind::InvalidInput,
                format!("--shard-index {index} --shard-count {count}"),
                "the shard index is 0-based and below the shard count (0 to N-1 of N)",
            ));
        }
        Ok(Shard { index, count })
    }

    /// Parse the 1-based `K/N` of `--shard` (1 <= K <= N) into shard K-1 of N.
    pub fn parse_one_based(s: &str) -> Result<Shard, InspectError> {
        let bad = || {
            InspectError::new(
                ErrorKind::InvalidInput,
                s,
                "a shard is K/N with 1 <= K <= N, e.g. --shard 2/4 for the second of four machines",
            )
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: u64 = k.trim().parse().map_err(|_| bad())?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        if n == 0 || k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }

    /// Whether this shard takes the image at 0-based list position `position`.
    pub fn takes(&self, position: u64) -> bool {
        self.count > 0 && position % self.count == self.index
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn shards_split_a_list_exactly_once() {
        let shards: Vec<Shard> = (0..3).map(|i| Shard::new(i, 3).unwrap()).collect();
        for pos in 0..100u64 {
            assert_eq!(shards.iter().filter(|s| s.takes(pos)).count(), 1);
        }
        assert!(shards[1].takes(4) && !shards[1].takes(5));
    }

    #[test]
    fn one_based_k_of_n_is_index_k_minus_one() {
        assert_eq!(
            Shard::parse_one_based("2/4").unwrap(),
            Shard::new(1, 4).unwrap()
        );
        for bad in ["0/4", "5/4", "1/0", "x/2", "3", "1/", "/2"] {
            assert!(Shard::parse_one_based(bad).is_err(), "{bad}");
        }
        assert!(Shard::new(3, 3).is_err() && Shard::new(0, 0).is_err());
    }
}
