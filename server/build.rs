//! Rebuild when migrations or the compiled dashboard change (both are embedded).
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
    println!("cargo:rerun-if-changed=../target/site");
    // The dashboard bundle is made by scripts/build-site.sh; a bare `cargo check` on a fresh
    // clone still needs the folder to exist for the asset embedding to compile.
    let _ = std::fs::create_dir_all("../target/site/pkg");
}
