//! Fresh identifiers for what the backend itself creates (referrals, jobs, reports, audit
//! records): a prefix, the creation time in milliseconds (so ids sort by time) and 64 random
//! bits, e.g. `ref-0193a5c2b7e1-9f3c0a7d41b2e655`.

use std::sync::Mutex;

static STATE: Mutex<Option<u64>> = Mutex::new(None);

fn seed() -> u64 {
    use std::io::Read;
    let mut bytes = [0u8; 8];
    let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if from_os.is_ok() {
        u64::from_le_bytes(bytes)
    } else {
        // No /dev/urandom: the time and the process id still make collisions unlikely.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        nanos ^ (u64::from(std::process::id()) << 32)
    }
}

/// 64 random bits (splitmix64 seeded once from the OS).
pub fn random_u64() -> u64 {
    let mut state = STATE.lock().unwrap_or_else(|p| p.into_inner());
    let s = state.get_or_insert_with(seed);
    *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A new id: `<prefix>-<millis hex, 12 digits>-<random hex, 16 digits>`.
pub fn new_id(prefix: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let millis = now.timestamp_millis().max(0) as u64;
    format!("{prefix}-{millis:012x}-{:016x}", random_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_sort_by_time() {
        let t0 = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("t");
        let t1 = t0 + chrono::Duration::milliseconds(1);
        let a = new_id("job", t0);
        let b = new_id("job", t0);
        let c = new_id("job", t1);
        assert_ne!(a, b);
        assert!(a[..17] < c[..17]);
        assert_eq!(a.len(), "job".len() + 1 + 12 + 1 + 16);
        assert!(a.starts_with("job-"));
    }
}
