//! Prints the OpenAPI document: `cargo run -p customers-http --example openapi`.

fn main() {
    println!("{}", customers_http::openapi::json());
}
