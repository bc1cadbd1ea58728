//! One error type for handlers. Pages get a Chinese error page, `/api` gets JSON; 5xx
//! details are logged, never shown.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use fazhi_store::StoreError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Not logged in: pages redirect to the login form, the API answers 401.
    #[error("请先登录")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Bad input; the message says where and why.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// The server lacks something an operator must install (a CJK font): 503 with the
    /// message saying what.
    #[error("{0}")]
    Unavailable(String),
    /// The file store is full: 507 with the message for the office.
    #[error("{0}")]
    InsufficientStorage(String),
    #[error("服务器内部错误")]
    Internal(String),
}

pub type WebResult<T> = Result<T, WebError>;

/// What a page says while the database cannot be reached.
pub const DATABASE_UNAVAILABLE: &str = "数据库暂时无法连接，系统暂停服务。已保存的数据不受影响，请稍后刷新重试；如持续出现，请联系系统管理员。";

impl WebError {
    pub fn forbidden() -> Self {
        WebError::Forbidden("没有权限访问这项内容".into())
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        WebError::Internal(e.to_string())
    }

    fn status(&self) -> StatusCode {
        match self {
            WebError::Unauthenticated => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn public_message(&self) -> String {
        if let WebError::Internal(detail) = self {
            tracing::error!(error = %detail, "internal error");
        }
        self.to_string()
    }

    /// The JSON form, for `/api`.
    pub fn into_api_response(self) -> Response {
        let status = self.status();
        let message = self.public_message();
        (status, axum::Json(json!({ "error": message }))).into_response()
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what } => WebError::NotFound(format!("未找到{what}")),
            StoreError::Conflict { .. } => WebError::Conflict(e.to_string()),
            StoreError::Invalid(m) => WebError::BadRequest(m),
            other if other.is_unavailable() => {
                tracing::error!(error = %other, "database unavailable");
                WebError::Unavailable(DATABASE_UNAVAILABLE.into())
            }
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<fazhi_package::PackageError> for WebError {
    fn from(e: fazhi_package::PackageError) -> Self {
        use fazhi_package::PackageError as P;
        match e {
            P::Invalid(m) | P::Unsupported(m) => WebError::BadRequest(m),
            P::Forbidden(m) => WebError::Forbidden(m),
            P::Store(e) => e.into(),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if matches!(self, WebError::Unauthenticated) {
            return Redirect::to("/login").into_response();
        }
        let status = self.status();
        let message = self.public_message();
        let page = ErrorPage {
            status: status.as_u16(),
            message,
        };
        let body = askama::Template::render(&page).unwrap_or_else(|_| "服务器内部错误".to_string());
        (status, Html(body)).into_response()
    }
}

/// The page shown for an error: without the logged-in header (the error may be about the
/// login itself), so it needs nothing from the pages' layout.
#[derive(askama::Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub message: String,
}

/// A [`WebError`] answered as JSON (the API's handlers return this).
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_api_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
