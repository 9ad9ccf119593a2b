//! The console's entry point; everything else is in the library.

fn main() {
    web::start();
}
