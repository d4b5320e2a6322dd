//! Staff users and their credentials.

use chrono::{DateTime, Utc};

use crate::access::role::{Role, Scope};
use crate::access::secret::SecretKind;
use crate::customer::{Email, PersonName};
use crate::ids::{CredentialId, StoreId, UserId};
use crate::validation::{ValidationErrors, char_len};

/// A person working at the store, with a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffUser {
    pub id: UserId,
    pub store_id: StoreId,
    pub email: Email,
    pub name: Option<PersonName>,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// A password as typed: 12–1024 characters. Never stored, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 12;
    pub const MAX: usize = 1024;

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
    pub email: Option<String>,
    pub password: Option<String>,
    pub role: Option<String>,
    pub name: Option<String>,
}

impl NewUserInput {
    pub(crate) fn validate(
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

/// A stored credential: a staff token or an API key, known only by its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    pub id: CredentialId,
    pub store_id: StoreId,
    pub kind: SecretKind,
    /// The staff user a token belongs to; `None` for API keys.
    pub user_id: Option<UserId>,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub digest: String,
    pub created_at: DateTime<Utc>,
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
