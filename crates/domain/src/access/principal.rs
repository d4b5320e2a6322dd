//! Who is calling, and what each endpoint demands of them.

use crate::access::role::{Role, Scope};
use crate::ids::{CredentialId, StoreId, UserId};

/// The holder of a valid credential, always of exactly one store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The store the credential belongs to; the caller sees only its data.
    pub store_id: StoreId,
    /// The credential used (`key_` and a random part): a staff token or an API key.
    pub credential_id: CredentialId,
    /// Who holds the credential.
    pub holder: Holder,
}

/// Who holds a credential: a staff user or the store itself through an API key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holder {
    /// A staff user's token.
    Staff {
        /// The staff user.
        user_id: UserId,
        /// The user's email, as stored.
        email: String,
        /// The user's role.
        role: Role,
    },
    /// A store's API key.
    ApiKey {
        /// The key's name, as its creator gave it.
        name: String,
        /// What the key may do.
        scopes: Vec<Scope>,
    },
}

/// What an endpoint requires of its caller: one row of the access table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, no credential needed.
    Public,
    /// Any valid credential, staff token or API key.
    AnyCredential,
    /// A staff token of at least this role; API keys are refused.
    Staff(Role),
    /// Any staff token, or an API key holding every one of these scopes.
    StaffOrKey(&'static [Scope]),
}

/// Why a valid credential may not do something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the credential does not allow this")]
pub struct Forbidden;

impl Principal {
    /// The staff user behind a staff token; `None` for an API key.
    pub fn user_id(&self) -> Option<&UserId> {
        match &self.holder {
            Holder::Staff { user_id, .. } => Some(user_id),
            Holder::ApiKey { .. } => None,
        }
    }

    /// The staff user's role; `None` for an API key.
    pub fn role(&self) -> Option<Role> {
        match &self.holder {
            Holder::Staff { role, .. } => Some(*role),
            Holder::ApiKey { .. } => None,
        }
    }

    /// Checks one row of the access table against this caller.
    pub fn authorize(&self, access: Access) -> Result<(), Forbidden> {
        let allowed = match (access, &self.holder) {
            (Access::Public | Access::AnyCredential, _) => true,
            (Access::Staff(min), Holder::Staff { role, .. }) => *role >= min,
            (Access::Staff(_), Holder::ApiKey { .. }) => false,
            (Access::StaffOrKey(_), Holder::Staff { .. }) => true,
            (Access::StaffOrKey(needed), Holder::ApiKey { scopes, .. }) => {
                needed.iter().all(|scope| scopes.contains(scope))
            }
        };
        if allowed { Ok(()) } else { Err(Forbidden) }
    }

    /// A staff caller of at least `min`, for rules a use case checks itself.
    pub fn require_role(&self, min: Role) -> Result<Role, Forbidden> {
        match self.role() {
            Some(role) if role >= min => Ok(role),
            _ => Err(Forbidden),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(role: Role) -> Principal {
        Principal {
            store_id: StoreId::parse("store_aaaaaaaaaaaa").unwrap(),
            credential_id: CredentialId::parse("key_aaaaaaaaaaaa").unwrap(),
            holder: Holder::Staff {
                user_id: UserId::parse("usr_aaaaaaaaaaaa").unwrap(),
                email: "a@b.dk".into(),
                role,
            },
        }
    }

    fn key(scopes: &[Scope]) -> Principal {
        Principal {
            holder: Holder::ApiKey {
                name: "pos".into(),
                scopes: scopes.to_vec(),
            },
            ..staff(Role::Staff)
        }
    }

    #[test]
    fn staff_rank_must_reach_the_minimum() {
        assert!(
            staff(Role::Manager)
                .authorize(Access::Staff(Role::Manager))
                .is_ok()
        );
        assert!(
            staff(Role::Owner)
                .authorize(Access::Staff(Role::Admin))
                .is_ok()
        );
        assert_eq!(
            staff(Role::Staff).authorize(Access::Staff(Role::Manager)),
            Err(Forbidden)
        );
    }

    #[test]
    fn api_keys_never_pass_staff_only_rows() {
        assert_eq!(
            key(&Scope::ALL).authorize(Access::Staff(Role::Staff)),
            Err(Forbidden)
        );
        assert!(key(&[]).authorize(Access::AnyCredential).is_ok());
    }

    #[test]
    fn api_keys_need_every_listed_scope() {
        const BOTH: &[Scope] = &[Scope::ReadCustomers, Scope::ReadOrders];
        assert!(
            key(&[Scope::ReadCustomers, Scope::ReadOrders])
                .authorize(Access::StaffOrKey(BOTH))
                .is_ok()
        );
        assert_eq!(
            key(&[Scope::ReadCustomers]).authorize(Access::StaffOrKey(BOTH)),
            Err(Forbidden)
        );
        assert!(
            staff(Role::Staff)
                .authorize(Access::StaffOrKey(BOTH))
                .is_ok()
        );
    }

    #[test]
    fn require_role_is_for_staff_only() {
        assert_eq!(
            staff(Role::Admin).require_role(Role::Admin),
            Ok(Role::Admin)
        );
        assert_eq!(key(&Scope::ALL).require_role(Role::Staff), Err(Forbidden));
    }
}
