//! The Fluent files in `locales/` are compiled into the binary by
//! fluent-templates' `static_loader!`, which cargo does not know reads them:
//! this tells cargo to build the crate again when any of them changes or a
//! new one appears.

fn main() {
    println!("cargo:rerun-if-changed=locales");
}
