//! `/users`: the store's staff.

use actix_web::{HttpRequest, HttpResponse, web};
use customers_domain::Ports;
use customers_domain::access::NewUserInput;
use serde::Deserialize;

use crate::body::{Body, JsonObject};
use crate::envelope::{self, Meta};
use crate::error::ApiError;
use crate::middleware::Caller;
use crate::query::page_only;
use crate::state::AppState;
use crate::views::UserView;

#[derive(Deserialize, Debug)]
pub struct NewUserBody {
    email: Option<String>,
    password: Option<String>,
    role: Option<String>,
    name: Option<String>,
}

impl Body for NewUserBody {
    const FIELDS: &'static [&'static str] = &["email", "password", "role", "name"];
}

pub async fn create<P: Ports>(
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
    let user = state.access.create_user(&caller, input).await?;
    Ok(envelope::created(&UserView::from(&user)))
}

pub async fn list<P: Ports>(
    state: web::Data<AppState<P>>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .access
        .list_users(&caller, page_only(req.query_string())?)
        .await?;
    let rows: Vec<UserView> = page.items.iter().map(UserView::from).collect();
    Ok(envelope::list(&rows, Meta::of(&page)))
}
