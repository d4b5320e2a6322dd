//! Purchase analytics of one customer.

use std::collections::{HashMap, HashSet};

/// A product or category and in how many of the customer's orders it appears.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranked {
    /// The product's or category's id, the caller's own string.
    pub id: String,
    /// Its name: the greatest name stored under the id, or the id when none was given.
    pub name: String,
    /// In how many orders it appears (two lines of one order count once).
    pub order_count: i64,
}

/// A customer's purchase analytics (docs/api.md), over their orders that are not cancelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerAnalytics {
    /// Number of orders not cancelled.
    pub total_orders: i64,
    /// Sum of their `totalMinor`, in the store's currency's minor units.
    pub total_spent_minor: i64,
    /// `total_spent_minor / total_orders`, rounded halves away from zero; 0 with no orders.
    pub average_order_minor: i64,
    /// At most five, by number of orders containing them, ties by name.
    pub top_products: Vec<Ranked>,
    /// At most five, ranked like `top_products`; items without a category are left out.
    pub top_categories: Vec<Ranked>,
}

/// How many products and categories the analytics rank.
pub const TOP: usize = 5;

/// `total / orders` rounded to the nearest integer, halves away from zero; 0 without orders.
pub fn average_order(total_minor: i64, orders: i64) -> i64 {
    if orders <= 0 {
        return 0;
    }
    let (total, orders) = (i128::from(total_minor), i128::from(orders));
    let rounded = (2 * total.abs() + orders) / (2 * orders);
    (rounded * total.signum()) as i64
}

/// Orders a ranking as the contract says: most orders first, then by name, at most five.
pub fn rank(mut items: Vec<Ranked>) -> Vec<Ranked> {
    items.sort_by(|a, b| {
        b.order_count
            .cmp(&a.order_count)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
    });
    items.truncate(TOP);
    items
}

/// One item line of a recorded order, as the analytics read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemLine {
    /// The order the line belongs to.
    pub order_id: String,
    /// The product's id.
    pub product_id: String,
    /// The product's name on this line.
    pub product_name: String,
    /// The category's id; `None` for a line without a category.
    pub category_id: Option<String>,
    /// The category's name on this line, if any.
    pub category_name: Option<String>,
}

/// How often one id appears, in how many distinct orders, under which greatest name.
#[derive(Default)]
struct Tally<'a> {
    name: Option<&'a str>,
    orders: HashSet<&'a str>,
}

impl<'a> Tally<'a> {
    fn add(&mut self, order: &'a str, name: Option<&'a str>) {
        self.orders.insert(order);
        if name > self.name {
            self.name = name;
        }
    }
}

fn ranked(tallies: HashMap<&str, Tally<'_>>) -> Vec<Ranked> {
    rank(
        tallies
            .into_iter()
            .map(|(id, tally)| Ranked {
                id: id.to_owned(),
                name: tally.name.unwrap_or(id).to_owned(),
                order_count: tally.orders.len() as i64,
            })
            .collect(),
    )
}

/// The top products and top categories of these lines: each counts the orders containing it
/// (two lines of one order count once), is named by the greatest name stored under its id
/// (its id when it has none), and is ranked by [`rank`]. Lines without a category count for
/// products only.
pub fn top_products_and_categories(lines: &[ItemLine]) -> (Vec<Ranked>, Vec<Ranked>) {
    let mut products: HashMap<&str, Tally<'_>> = HashMap::new();
    let mut categories: HashMap<&str, Tally<'_>> = HashMap::new();
    for line in lines {
        products
            .entry(line.product_id.as_str())
            .or_default()
            .add(&line.order_id, Some(&line.product_name));
        if let Some(category) = &line.category_id {
            categories
                .entry(category.as_str())
                .or_default()
                .add(&line.order_id, line.category_name.as_deref());
        }
    }
    (ranked(products), ranked(categories))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_average_rounds_halves_away_from_zero() {
        assert_eq!(average_order(245_600, 28), 8771);
        assert_eq!(average_order(5, 2), 3);
        assert_eq!(average_order(7, 2), 4);
        assert_eq!(average_order(4, 3), 1);
        assert_eq!(average_order(5, 3), 2);
        assert_eq!(average_order(0, 0), 0);
        assert_eq!(average_order(i64::MAX, 1), i64::MAX);
    }

    #[test]
    fn rankings_keep_the_top_five_by_count_then_name() {
        let r = |id: &str, name: &str, n| Ranked {
            id: id.into(),
            name: name.into(),
            order_count: n,
        };
        let ranked = rank(vec![
            r("a", "Garlic Bread", 12),
            r("b", "Margherita Pizza", 15),
            r("c", "Cola", 12),
            r("d", "Salad", 1),
            r("e", "Tiramisu", 3),
            r("f", "Water", 2),
        ]);
        let names: Vec<_> = ranked.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Margherita Pizza",
                "Cola",
                "Garlic Bread",
                "Tiramisu",
                "Water"
            ]
        );
    }

    fn line(
        order: &str,
        product: &str,
        name: &str,
        category: Option<(&str, Option<&str>)>,
    ) -> ItemLine {
        ItemLine {
            order_id: order.into(),
            product_id: product.into(),
            product_name: name.into(),
            category_id: category.map(|(id, _)| id.into()),
            category_name: category.and_then(|(_, name)| name.map(Into::into)),
        }
    }

    #[test]
    fn products_and_categories_count_orders_not_lines() {
        let mains = Some(("mains", Some("Mains")));
        let drinks = Some(("drinks", Some("Drinks")));
        let lines = [
            line("o1", "pizza", "Pizza", mains),
            line("o1", "pizza", "Pizza", mains),
            line("o1", "cola", "Cola", drinks),
            line("o2", "pizza", "Pizza", mains),
            line("o2", "pasta", "Pasta", mains),
            line("o3", "water", "Water", drinks),
            line("o3", "bread", "Bread", None),
        ];
        let (products, categories) = top_products_and_categories(&lines);
        let counts = |ranked: &[Ranked]| -> Vec<(String, i64)> {
            ranked
                .iter()
                .map(|r| (r.name.clone(), r.order_count))
                .collect()
        };
        assert_eq!(
            counts(&products),
            [
                ("Pizza".into(), 2),
                ("Bread".into(), 1),
                ("Cola".into(), 1),
                ("Pasta".into(), 1),
                ("Water".into(), 1),
            ]
        );
        assert_eq!(
            counts(&categories),
            [("Drinks".into(), 2), ("Mains".into(), 2)]
        );
    }

    #[test]
    fn names_are_the_greatest_under_an_id_or_the_id() {
        let lines = [
            line("o1", "p1", "Margherita", Some(("c1", None))),
            line("o2", "p1", "Margherita (new)", Some(("c1", Some("Pizza")))),
            line("o3", "p2", "Cola", Some(("c2", None))),
        ];
        let (products, categories) = top_products_and_categories(&lines);
        assert_eq!(products[0].name, "Margherita (new)");
        assert_eq!(products[0].order_count, 2);
        assert_eq!(categories[0].name, "Pizza");
        assert_eq!(categories[1].name, "c2", "no name: the id");
        assert_eq!(top_products_and_categories(&[]), (vec![], vec![]));
    }

    #[test]
    fn at_most_five_of_each() {
        let lines: Vec<ItemLine> = (0..8)
            .map(|n| {
                let id = format!("p{n}");
                line(&format!("o{n}"), &id, &id, Some((&id, None)))
            })
            .collect();
        let (products, categories) = top_products_and_categories(&lines);
        assert_eq!(products.len(), TOP);
        assert_eq!(categories.len(), TOP);
        assert_eq!(products[0].id, "p0");
    }
}
