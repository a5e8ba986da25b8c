//! Replays the saved fuzz corpus (`fuzz/corpus/<target>/`, kept small with
//! `cargo fuzz cmin`) through the targets, so CI runs every input the guided
//! runs found interesting — crashes found and fixed included.

use std::path::Path;

#[test]
fn every_saved_input_of_every_target_replays_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for (name, target) in kanoon_fuzz::TARGETS {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut replayed = 0;
        for entry in entries {
            let path = entry.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            target(&bytes);
            replayed += 1;
        }
        assert!(replayed > 0, "no saved inputs for the target {name} in {}", dir.display());
    }
}
