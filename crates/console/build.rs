//! Rebuilds the crate when the built front end changes: the embed reads `assets/` at
//! compile time, and a new build brings files with new (hashed) names.
fn main() {
    println!("cargo:rerun-if-changed=assets");
}
