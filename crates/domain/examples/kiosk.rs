//! A self-service kiosk: signs a customer up, records their order and shows the loyalty points
//! it earned, through the service's own use cases over `Memory`: no database, no async runtime
//! (`block_on` runs each use case on the calling thread).
//!
//! `cargo run -p customers-domain --example kiosk --features memory`

use customers_domain::{memory, prelude::*};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let services = memory::services();
    let settings = StoreSettings::default();
    let owner = block_on(memory::open_store(&services, &settings, "owner@kiosk.dk"))?;

    // The sign-up form: the rules of the HTTP API refuse a mistyped email and phone.
    let mut form = ProfileInput::default();
    (form.email, form.phone) = (Patch::Set("maria@".into()), Patch::Set("12 34".into()));
    let refused = block_on(services.customers().create(&owner, &form)).unwrap_err();
    println!("Sign-up refused: {refused}");
    (form.email, form.phone) = (Patch::Set("maria@example.dk".into()), Patch::Unchanged);
    let maria = block_on(services.customers().create(&owner, &form))?;

    // Two pizzas at 85.00 DKK; the store earns a point per 1.00 DKK spent.
    let mut pizza = OrderItemInput::default();
    (pizza.product_id, pizza.product_name) = (Some("pizza".into()), Some("Margherita".into()));
    (pizza.quantity, pizza.unit_price_minor) = (Some(2), Some(8_500));
    let mut order = OrderInput::default();
    (order.customer_id, order.items) = (Some(maria.id.to_string()), Some(vec![pizza]));
    let recorded = block_on(services.orders().record(&owner, &order, None))?;
    println!("The order earned {} points", recorded.order().points_earned);
    let points = block_on(services.loyalty().balance(&owner, maria.id.as_str()))?;
    println!("Customer {} has {points} points", maria.id);
    Ok(())
}
