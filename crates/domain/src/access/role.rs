//! Staff roles and API key scopes.

use std::fmt;
use std::str::FromStr;

/// A staff user's role. The order is the rank: `Staff < Manager < Admin < Owner`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// `staff`: the lowest rank.
    Staff,
    /// `manager`: may also change and block customers, adjust points, moderate and answer
    /// reviews.
    Manager,
    /// `admin`: may also erase and export customers, delete reviews, manage users and API keys
    /// and read the audit trail.
    Admin,
    /// `owner`: everything an admin may, and may make other owners.
    Owner,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 4] = [Role::Staff, Role::Manager, Role::Admin, Role::Owner];

    /// The API name: `staff`, `manager`, `admin` or `owner`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Manager => "manager",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| "must be one of staff, manager, admin, owner".to_owned())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an API key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `read:customers`: read customers, their loyalty, and (with other scopes) their orders and
    /// analytics.
    ReadCustomers,
    /// `read:orders`: read orders and reviews.
    ReadOrders,
    /// `read:analytics`: read a customer's analytics (with `read:customers`).
    ReadAnalytics,
    /// `write:orders`: record and cancel orders.
    WriteOrders,
}

impl Scope {
    /// Every scope, in their fixed order.
    pub const ALL: [Scope; 4] = [
        Scope::ReadCustomers,
        Scope::ReadOrders,
        Scope::ReadAnalytics,
        Scope::WriteOrders,
    ];

    /// The API name, e.g. `read:customers`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadCustomers => "read:customers",
            Self::ReadOrders => "read:orders",
            Self::ReadAnalytics => "read:analytics",
            Self::WriteOrders => "write:orders",
        }
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| {
                "must be one of read:customers, read:orders, read:analytics, write:orders"
                    .to_owned()
            })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ranked() {
        assert!(Role::Staff < Role::Manager);
        assert!(Role::Manager < Role::Admin);
        assert!(Role::Admin < Role::Owner);
    }

    #[test]
    fn roles_and_scopes_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
        }
        assert!("Owner".parse::<Role>().is_err());
        assert!("write:customers".parse::<Scope>().is_err());
    }
}
