//! Purchase analytics of one customer.

/// A product or category and in how many of the customer's orders it appears.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranked {
    pub id: String,
    pub name: String,
    pub order_count: i64,
}

/// The seed's analytics, over the customer's orders that are not cancelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerAnalytics {
    pub total_orders: i64,
    pub total_spent_minor: i64,
    pub average_order_minor: i64,
    /// At most five, by number of orders containing them, ties by name.
    pub top_products: Vec<Ranked>,
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
}
