//! Staff users and their credentials.

use chrono::{DateTime, Utc};

use crate::access::role::{Role, Scope};
use crate::access::secret::SecretKind;
use crate::customer::{Email, PersonName};
use crate::ids::{CredentialId, StoreId, UserId};
use crate::validation::{ValidationErrors, char_len, has_forbidden_controls};

/// A person working at the store, with a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffUser {
    /// The user's id, `usr_` and a random part.
    pub id: UserId,
    /// The store the user works for; a user belongs to one store only.
    pub store_id: StoreId,
    /// The login email, unique per store compared case-insensitively.
    pub email: Email,
    /// The user's name, if given (at most 100 characters).
    pub name: Option<PersonName>,
    /// What the user may do.
    pub role: Role,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
}

/// A password as typed: 12–1024 characters. Never stored, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Fewest characters a password may have.
    pub const MIN: usize = 12;
    /// Most characters a password may have.
    pub const MAX: usize = 1024;

    /// Accepts 12–1024 characters, as typed (not trimmed).
    pub fn parse(s: &str) -> Result<Self, String> {
        let len = char_len(s);
        if len < Self::MIN {
            Err(format!("must be at least {} characters", Self::MIN))
        } else if len > Self::MAX {
            Err(format!("must be at most {} characters", Self::MAX))
        } else {
            Ok(Self(s.to_owned()))
        }
    }

    /// The password itself, to hash or check it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

/// `POST /users` before validation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewUserInput {
    /// `email`, required.
    pub email: Option<String>,
    /// `password`, required, 12–1024 characters.
    pub password: Option<String>,
    /// `role`, required: `staff`, `manager`, `admin` or `owner`.
    pub role: Option<String>,
    /// `name`, optional.
    pub name: Option<String>,
}

impl NewUserInput {
    /// Checks every field, reporting all broken rules at once.
    pub fn validate(
        &self,
    ) -> Result<(Email, Password, Role, Option<PersonName>), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let email = match &self.email {
            Some(email) => errors.check("email", Email::parse(email)),
            None => {
                errors.add("email", "is required");
                None
            }
        };
        let password = match &self.password {
            Some(password) => errors.check("password", Password::parse(password)),
            None => {
                errors.add("password", "is required");
                None
            }
        };
        let role = match &self.role {
            Some(role) => errors.check("role", role.parse()),
            None => {
                errors.add("role", "is required");
                None
            }
        };
        let name = self
            .name
            .as_deref()
            .and_then(|name| errors.check("name", PersonName::parse(name)))
            .flatten();
        match (email, password, role) {
            (Some(email), Some(password), Some(role)) if errors.is_empty() => {
                Ok((email, password, role, name))
            }
            _ => Err(errors),
        }
    }
}

/// An API key as its store sees it: never its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    /// The key's id, `key_` and a random part.
    pub id: CredentialId,
    /// The name its creator gave it, 1–100 characters.
    pub name: String,
    /// What the key may do, at least one, without duplicates.
    pub scopes: Vec<Scope>,
    /// When the key was created.
    pub created_at: DateTime<Utc>,
    /// When the key was revoked; `None` while it works.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// `POST /api-keys` before validation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewApiKeyInput {
    /// `name`, required.
    pub name: Option<String>,
    /// `scopes`, required: at least one of `read:customers`, `read:orders`, `read:analytics`,
    /// `write:orders`.
    pub scopes: Option<Vec<String>>,
}

impl NewApiKeyInput {
    /// Longest name of an API key, in characters.
    pub const MAX_NAME: usize = 100;

    /// A name of 1–100 characters on one line and at least one known scope (duplicates
    /// folded, kept in a fixed order).
    pub fn validate(&self) -> Result<(String, Vec<Scope>), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = match self.name.as_deref().map(str::trim) {
            None => {
                errors.add("name", "is required");
                None
            }
            Some(n)
                if n.is_empty()
                    || char_len(n) > Self::MAX_NAME
                    || has_forbidden_controls(n, false) =>
            {
                errors.add(
                    "name",
                    format!(
                        "must be 1 to {} characters on one line, none of them control or invisible",
                        Self::MAX_NAME
                    ),
                );
                None
            }
            Some(n) => Some(n.to_owned()),
        };
        let mut scopes = Vec::new();
        match &self.scopes {
            None => errors.add("scopes", "is required"),
            Some(list) if list.is_empty() => errors.add("scopes", "must hold at least one scope"),
            Some(list) => {
                for (i, scope) in list.iter().enumerate() {
                    match scope.parse::<Scope>() {
                        Ok(scope) if !scopes.contains(&scope) => scopes.push(scope),
                        Ok(_) => {}
                        Err(message) => errors.add(format!("scopes[{i}]"), message),
                    }
                }
            }
        }
        scopes.sort();
        match name {
            Some(name) if errors.is_empty() => Ok((name, scopes)),
            _ => Err(errors),
        }
    }
}

/// A stored credential: a staff token or an API key, known only by its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    /// The credential's id, `key_` and a random part.
    pub id: CredentialId,
    /// The store it belongs to.
    pub store_id: StoreId,
    /// Staff token or API key.
    pub kind: SecretKind,
    /// The staff user a token belongs to; `None` for API keys.
    pub user_id: Option<UserId>,
    /// An API key's name; `login` or `owner` for staff tokens, after how they were issued.
    pub name: String,
    /// An API key's scopes; empty for staff tokens.
    pub scopes: Vec<Scope>,
    /// The digest of the secret ([`TokenDigester`](crate::access::TokenDigester), SHA-256 in
    /// production); the secret itself is never stored.
    pub digest: String,
    /// When the credential was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working; `None` for API keys and for the owner tokens the store setup prints.
    pub expires_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_have_a_length_range_and_hide_in_debug() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("twelve chars").is_ok());
        assert!(Password::parse(&"x".repeat(1025)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret secret").unwrap()),
            "Password(…)"
        );
    }

    #[test]
    fn new_users_need_email_password_and_role() {
        let errors = NewUserInput::default().validate().unwrap_err();
        let fields: Vec<_> = errors.fields().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "password", "role"]);
        let input = NewUserInput {
            email: Some("chef@example.dk".into()),
            password: Some("a long password".into()),
            role: Some("chef".into()),
            name: None,
        };
        assert_eq!(input.validate().unwrap_err().fields()[0].field, "role");
    }
}

#[cfg(test)]
mod api_key_tests {
    use super::*;

    #[test]
    fn api_keys_need_a_name_and_known_scopes() {
        let input = NewApiKeyInput {
            name: Some(" POS ".into()),
            scopes: Some(vec![
                "read:orders".into(),
                "read:customers".into(),
                "read:orders".into(),
            ]),
        };
        let (name, scopes) = input.validate().unwrap();
        assert_eq!(name, "POS");
        assert_eq!(scopes, [Scope::ReadCustomers, Scope::ReadOrders]);
        let bad = NewApiKeyInput {
            name: Some("".into()),
            scopes: Some(vec!["read:orders".into(), "write:everything".into()]),
        };
        let fields: Vec<_> = bad
            .validate()
            .unwrap_err()
            .fields()
            .iter()
            .map(|e| e.field.clone())
            .collect();
        assert_eq!(fields, ["name", "scopes[1]"]);
        let empty = NewApiKeyInput {
            name: Some("x".into()),
            scopes: Some(vec![]),
        };
        assert_eq!(empty.validate().unwrap_err().fields()[0].field, "scopes");
    }
}
