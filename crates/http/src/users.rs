//! `/users` and `/api-keys`: who may use the store's data.

use crate::state::Stack;
use actix_web::{HttpResponse, web};
use customers_domain::access::{NewApiKeyInput, NewUserInput};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::body::{Body, JsonObject};
use crate::envelope;
use crate::error::ApiError;
use crate::middleware::Caller;
use crate::openapi::schemas;
use crate::query::QueryParams;
use crate::state::AppState;
use crate::views::{ApiKeyView, NewApiKeyView, UserView};

/// A staff user; only an owner may create an owner.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewUserInput, example = json!({
    "email": "anna@example.dk", "password": "a long enough password", "role": "manager", "name": "Anna"
}))]
pub struct NewUserBody {
    #[schema(schema_with = schemas::user_email, required = true)]
    email: Option<String>,
    #[schema(schema_with = schemas::password, required = true)]
    password: Option<String>,
    #[schema(schema_with = schemas::role, required = true)]
    role: Option<String>,
    #[schema(schema_with = schemas::person_name)]
    name: Option<String>,
}

impl Body for NewUserBody {}

pub async fn create<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let body = body.decode::<NewUserBody>()?;
    let input = NewUserInput {
        email: body.email,
        password: body.password,
        role: body.role,
        name: body.name,
    };
    let user = state.staff.create_user(&caller, input).await?;
    Ok(envelope::created(&UserView::from(&user)))
}

pub async fn list<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    query: QueryParams,
) -> Result<HttpResponse, ApiError> {
    let page = state.staff.list_users(&caller, query.page()?).await?;
    Ok(envelope::page::<_, UserView>(&page))
}

/// An API key with the scopes it may use; duplicates are folded.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewApiKeyInput, example = json!({"name": "Website", "scopes": ["read:customers"]}))]
pub struct NewApiKeyBody {
    #[schema(schema_with = schemas::api_key_name, required = true)]
    name: Option<String>,
    #[schema(schema_with = schemas::scopes_input, required = true)]
    scopes: Option<Vec<String>>,
}

impl Body for NewApiKeyBody {}

/// 201 with the key's secret, shown this once.
pub async fn create_api_key<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let body = body.decode::<NewApiKeyBody>()?;
    let input = NewApiKeyInput {
        name: body.name,
        scopes: body.scopes,
    };
    let created = state.api_keys.create_api_key(&caller, &input).await?;
    Ok(envelope::created(&NewApiKeyView::from(&created)))
}

pub async fn list_api_keys<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    query: QueryParams,
) -> Result<HttpResponse, ApiError> {
    let page = state.api_keys.list_api_keys(&caller, query.page()?).await?;
    Ok(envelope::page::<_, ApiKeyView>(&page))
}

/// Revokes at once: the key is refused from the next request on.
pub async fn revoke_api_key<P: Stack>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if state.api_keys.revoke_api_key(&caller, &id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found())
    }
}
