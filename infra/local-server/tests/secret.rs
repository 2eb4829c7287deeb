//! `DataDir::secret`: 32 random bytes made once per name and data directory, kept as hex.

use local_server::DataDir;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("local-server-secret-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_secret_is_made_once_kept_as_hex_and_differs_between_directories() {
    let (a, b) = (temp_dir("a"), temp_dir("b"));
    let first = DataDir::new(&a).secret("key").expect("made");
    assert_eq!(first.len(), 32);
    assert_ne!(first, vec![0u8; 32]);
    let stored = std::fs::read_to_string(a.join("key")).expect("stored");
    assert_eq!(stored, hex::encode(&first));
    assert_eq!(DataDir::new(&a).secret("key").expect("read back"), first);
    let other = DataDir::new(&b).secret("key").expect("made");
    assert_ne!(other, first, "each directory gets its own randomness");
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn a_damaged_secret_is_replaced() {
    let dir = temp_dir("damaged");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("key"), "not hex").expect("write");
    let made = DataDir::new(&dir).secret("key").expect("made");
    assert_eq!(made.len(), 32);
    assert_eq!(
        std::fs::read_to_string(dir.join("key")).expect("stored"),
        hex::encode(&made)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
