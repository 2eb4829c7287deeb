//! Memory and time of one measured step inside this process.
//!
//! An export's peak is its own: the kernel's high-water mark is reset first (writing `5` to
//! `/proc/self/clear_refs`), the resident size is read before the step (`VmRSS`), and the peak is
//! the high-water mark after it (`VmHWM`) minus that. What the process held before (the
//! in-memory store, the rows of the raw writers) is not counted.

use std::time::{Duration, Instant};

/// A field of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`).
pub fn status_kib(pid: Option<u32>, field: &str) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_string(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU time (user + system) of this process so far, every thread, from `/proc/self/stat`
/// (clock ticks of 1/100 s, Linux's `USER_HZ`).
pub fn cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let rest = text.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// A step being measured.
pub struct Probe {
    started: Instant,
    rss_before: Option<u64>,
    cpu_before: Option<Duration>,
}

/// What a step took.
#[derive(Debug, Clone, Copy)]
pub struct Taken {
    pub wall: Duration,
    /// CPU time of the process during the step (all threads).
    pub cpu: Option<Duration>,
    /// The step's own peak (KiB): high-water mark after minus resident size before.
    pub peak_kib: Option<u64>,
}

impl Probe {
    /// Resets the high-water mark and starts the clock.
    pub fn start() -> Probe {
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let rss_before = if reset {
            status_kib(None, "VmRSS")
        } else {
            None
        };
        Probe {
            started: Instant::now(),
            rss_before,
            cpu_before: cpu_time(),
        }
    }

    pub fn stop(self) -> Taken {
        let wall = self.started.elapsed();
        let peak_kib = match (self.rss_before, status_kib(None, "VmHWM")) {
            (Some(before), Some(hwm)) => Some(hwm.saturating_sub(before)),
            _ => None,
        };
        let cpu = match (self.cpu_before, cpu_time()) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        };
        Taken {
            wall,
            cpu,
            peak_kib,
        }
    }
}
