//! The TypeScript side of the IPC contract, generated from the Rust types:
//! every DTO's declaration (ts-rs) and a `Commands` map from command name to
//! its argument and result types. `ui/src/lib/bindings.ts` is this text; a
//! test fails when the file is stale and rewrites it when asked
//! (`KANOON_UPDATE_BINDINGS=1 cargo test -p kanoon-desk bindings`).

use std::collections::BTreeMap;

use ts_rs::{Config, TS, TypeVisitor};

/// Collects the declaration of every named type reachable from a command.
struct Declarations<'a> {
    cfg: &'a Config,
    found: BTreeMap<String, String>,
    /// Types already walked (recursive types such as JSON values).
    seen: std::collections::HashSet<std::any::TypeId>,
}

impl TypeVisitor for Declarations<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if !self.seen.insert(std::any::TypeId::of::<T>()) {
            return;
        }
        // Built-in types (strings, numbers, Option, Vec, ...) have no file of
        // their own and cannot be declared.
        if T::output_path().is_none() {
            T::visit_generics(self);
            T::visit_dependencies(self);
            return;
        }
        self.found.insert(T::ident(self.cfg), T::decl(self.cfg));
        T::visit_dependencies(self);
    }
}

pub fn config() -> Config {
    // serde_json writes i64 as a JSON number; our counts and rials fit in
    // a double (|x| < 2^53).
    Config::new().with_large_int("number")
}

/// The whole generated file.
pub fn typescript() -> String {
    let cfg = config();
    let mut decls = Declarations { cfg: &cfg, found: BTreeMap::new(), seen: Default::default() };
    crate::commands::visit_types(&mut decls);
    let mut out = String::from(
        "// Generated from the Rust types by `KANOON_UPDATE_BINDINGS=1 cargo test -p kanoon-desk bindings`.\n\
         // Do not edit: change the Rust type and regenerate.\n\n",
    );
    for decl in decls.found.values() {
        out.push_str("export ");
        out.push_str(decl.trim());
        out.push_str("\n\n");
    }
    out.push_str("/** Every command: its argument (`args`) and result types. */\nexport type Commands = {\n");
    for (name, args, ret) in crate::commands::signatures(&cfg) {
        out.push_str(&format!("  {name}: {{ args: {args}; result: {ret} }};\n"));
    }
    out.push_str("};\n");
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    #[test]
    fn bindings_file_is_fresh() -> std::io::Result<()> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings.ts");
        let generated = super::typescript();
        if std::env::var("KANOON_UPDATE_BINDINGS").is_ok_and(|v| v == "1") {
            std::fs::write(&path, &generated)?;
            return Ok(());
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "ui/src/lib/bindings.ts is stale: run `KANOON_UPDATE_BINDINGS=1 cargo test -p kanoon-desk bindings`"
        );
        Ok(())
    }

    #[test]
    fn every_command_and_error_code_is_declared() {
        let ts = super::typescript();
        for name in ["check_out: { args: CheckOutRequest; result: CheckOutResult }", "export type ApiErrorCode"] {
            assert!(ts.contains(name), "missing {name}");
        }
        assert!(!ts.contains("bigint"), "numbers cross IPC as JSON numbers");
    }
}
