// `src/spa.rs` embeds every file of `web/dist`. The embedding macro tracks the
// files it saw, but a rebuilt bundle has new (hashed) file names: watch the
// whole directory so the binary always carries the bundle on disk.
fn main() {
    println!("cargo:rerun-if-changed=../../web/dist");
}
