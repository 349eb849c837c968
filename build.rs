//! Rebuilds the crate when a migration is added or changed: the migrations are embedded
//! (`diesel_migrations::embed_migrations!`), and cargo does not watch their folder itself.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
