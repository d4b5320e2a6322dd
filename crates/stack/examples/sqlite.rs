//! Ordeliya Customers inside another Rust service, over SQLite: opens (and migrates) a database
//! file, creates a store, signs a customer up, records their order and reads their points,
//! through the domain's use cases. No HTTP server is involved.
//!
//! `cargo run -p customers-stack --example sqlite`

use customers_domain::prelude::*;
use customers_stack::{DatabaseConfig, open, open_store};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = std::env::temp_dir().join(format!("customers-example-{}.db", std::process::id()));
    let services = open(&DatabaseConfig::new(format!("sqlite://{}", file.display()))).await?;
    let owner = open_store(&services, &StoreSettings::default(), "owner@example.dk").await?;

    let form = ProfileInput {
        email: Patch::Set("m@shop.dk".into()),
        ..Default::default()
    };
    let maria = services.customers().create(&owner, &form).await?;
    // Two pizzas at 85.00; the store earns a point per 1.00 spent.
    let mut pizza = OrderItemInput::default();
    (pizza.product_id, pizza.product_name) = (Some("pizza".into()), Some("Margherita".into()));
    (pizza.quantity, pizza.unit_price_minor) = (Some(2), Some(8_500));
    let mut order = OrderInput::default();
    (order.customer_id, order.items) = (Some(maria.id.to_string()), Some(vec![pizza]));
    services.orders().record(&owner, &order, None).await?;
    let loyalty = services.loyalty();
    let points = loyalty.balance(&owner, maria.id.as_str()).await?;
    println!("{} has {points} points, in {}", maria.id, file.display());
    services.repos().close();
    Ok(std::fs::remove_file(&file)?)
}
