//! One operation per row of the access table: who may call it (from the row's `access`), its
//! parameters (from the row's path, `query` and `idempotent`), its body and answers (from the
//! endpoint's [`Shape`](super::shapes::Shape)).

use customers_domain::access::{Access, Role};
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::link::{Link, LinkBuilder};
use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, Required};

use super::shapes::{RequestBody, reference, shape};
use super::{API_KEY, STAFF_TOKEN, parameters, responses};
use crate::routes::{Endpoint, ROUTES, Route, Verb};

/// The roles whose staff tokens a row accepts.
pub fn roles(access: Access) -> Vec<&'static str> {
    let least = match access {
        Access::Public => return Vec::new(),
        Access::AnyCredential | Access::StaffOrKey(_) => Role::Staff,
        Access::Staff(role) => role,
    };
    Role::ALL
        .into_iter()
        .filter(|role| *role >= least)
        .map(Role::as_str)
        .collect()
}

/// The scopes an API key needs for a row; `None` when API keys are refused.
pub fn scopes(access: Access) -> Option<Vec<&'static str>> {
    match access {
        Access::Public | Access::Staff(_) => None,
        Access::AnyCredential => Some(Vec::new()),
        Access::StaffOrKey(scopes) => Some(scopes.iter().map(|s| s.as_str()).collect()),
    }
}

fn who(access: Access) -> String {
    match access {
        Access::Public => "Public: no credential needed.".to_owned(),
        Access::AnyCredential => "Any credential: a staff token of any role or an API key.".into(),
        Access::Staff(Role::Staff) => {
            "Staff token of any role; API keys are refused (403).".to_owned()
        }
        Access::Staff(role) => format!(
            "Staff token of role {} or above ({}); API keys are refused (403).",
            role.as_str(),
            roles(access).join(", ")
        ),
        Access::StaffOrKey(scopes) => format!(
            "Staff token of any role, or an API key holding {}: {}.",
            if scopes.len() == 1 {
                "the scope"
            } else {
                "every one of the scopes"
            },
            scopes
                .iter()
                .map(|s| format!("`{}`", s.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn security(access: Access) -> Vec<SecurityRequirement> {
    let staff = || SecurityRequirement::new(STAFF_TOKEN, Vec::<String>::new());
    match access {
        Access::Public => Vec::new(),
        Access::Staff(_) => vec![staff()],
        Access::AnyCredential | Access::StaffOrKey(_) => vec![
            staff(),
            SecurityRequirement::new(API_KEY, scopes(access).unwrap_or_default()),
        ],
    }
}

/// `createCustomer` for `CreateCustomer`.
pub(super) fn operation_id(endpoint: Endpoint) -> String {
    let name = format!("{endpoint:?}");
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

pub(super) fn http_method(verb: Verb) -> HttpMethod {
    match verb {
        Verb::Get => HttpMethod::Get,
        Verb::Post => HttpMethod::Post,
        Verb::Patch => HttpMethod::Patch,
        Verb::Delete => HttpMethod::Delete,
    }
}

/// The operations that take the id a create answers: for `POST /customers`, every row under
/// `/customers/{id}`. Each becomes an OpenAPI link from the 201 response.
fn links(route: &Route) -> Vec<(String, Link)> {
    if route.verb != Verb::Post || !parameters::path_parameters(route.path).is_empty() {
        return Vec::new();
    }
    let prefix = format!("{}/{{id}}", route.path);
    ROUTES
        .iter()
        .filter(|other| other.path == prefix || other.path.starts_with(&format!("{prefix}/")))
        .map(|other| {
            let id = operation_id(other.endpoint);
            let link = LinkBuilder::new()
                .operation_id(id.clone())
                .parameter("id", "$response.body#/data/id")
                .description(format!(
                    "The new resource's `id` as `id` of {}",
                    other.summary
                ))
                .build();
            (id[..1].to_ascii_uppercase() + &id[1..], link)
        })
        .collect()
}

/// The operation of a row.
pub(super) fn operation(route: &Route) -> Operation {
    let shape = shape(route.endpoint);
    let mut description = who(route.access);
    if route.idempotent {
        description.push_str(
            " Takes an `Idempotency-Key`: a repeat of the same request answers the first \
             response (with `Idempotent-Replayed: true`) and writes nothing.",
        );
    }
    let mut extensions = ExtensionsBuilder::new()
        .add("x-roles", serde_json::json!(roles(route.access)))
        .add("x-scopes", serde_json::json!(scopes(route.access)));
    extensions = extensions.add(
        "x-access",
        serde_json::json!(match route.access {
            Access::Public => "public",
            Access::AnyCredential => "anyCredential",
            Access::Staff(_) => "staff",
            Access::StaffOrKey(_) => "staffOrApiKey",
        }),
    );
    let mut builder = OperationBuilder::new()
        .operation_id(Some(operation_id(route.endpoint)))
        .summary(Some(route.summary))
        .description(Some(description))
        .tag(shape.tag)
        .securities(Some(security(route.access)))
        .extensions(Some(extensions.build()));
    for name in parameters::path_parameters(route.path) {
        builder = builder.parameter(parameters::path(name));
    }
    for param in route.query {
        builder = builder.parameter(parameters::query(param));
    }
    if route.idempotent {
        builder = builder.parameter(parameters::idempotency_key());
    }
    if let Some(body) = shape.body.of() {
        let required = matches!(shape.body, RequestBody::Json(_));
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(reference(&(body.name)())))
                        .build(),
                )
                .required(Some(if required {
                    Required::True
                } else {
                    Required::False
                }))
                .description(Some(if required {
                    "A JSON object; unknown fields are refused (422)."
                } else {
                    "Optional: no body at all, or a JSON object; unknown fields are refused (422)."
                }))
                .build(),
        ));
    }
    let links = links(route);
    builder
        .responses(responses::responses(route, shape, links))
        .build()
}
