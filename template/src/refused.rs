//! The answer to a request that a layer beneath refused or gave up on. Those layers
//! (the timeout, the body limits) fail with an error, which axum's router does not take:
//! each is turned into its JSON answer here, as it comes, without the clone of every
//! layer beneath that axum's `HandleErrorLayer` makes for each request.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
};

use axum::{
    BoxError,
    extract::Request,
    response::{IntoResponse, Response},
};
use pin_project_lite::pin_project;
use tower::{Layer, Service, timeout::error::Elapsed};

use crate::{body_limit, error::AppError};

/// Answers what the layers beneath refused. It is ready when they are: a layer added
/// beneath that waits for capacity holds requests back here.
#[derive(Debug, Clone, Copy)]
pub struct AnswerLayer;

impl<S> Layer<S> for AnswerLayer {
    type Service = Answer<S>;

    fn layer(&self, inner: S) -> Answer<S> {
        Answer { inner, unready: None }
    }
}

/// The service of [`AnswerLayer`]. A layer beneath that fails to get ready has the next
/// request answered with its error.
#[derive(Debug)]
pub struct Answer<S> {
    inner: S,
    unready: Option<BoxError>,
}

impl<S: Clone> Clone for Answer<S> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), unready: None }
    }
}

impl<S> Service<Request> for Answer<S>
where
    S: Service<Request>,
    S::Response: IntoResponse,
    S::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answered<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.unready = ready!(self.inner.poll_ready(cx)).err().map(Into::into);
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match self.unready.take() {
            Some(error) => Answered::Refused { error: Some(error) },
            None => Answered::Running { response: self.inner.call(request) },
        }
    }
}

pin_project! {
    #[project = AnsweredProjection]
    pub enum Answered<F> {
        Running { #[pin] response: F },
        Refused { error: Option<BoxError> },
    }
}

impl<F, T, E> Future for Answered<F>
where
    F: Future<Output = Result<T, E>>,
    T: IntoResponse,
    E: Into<BoxError>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let answer = match self.project() {
            AnsweredProjection::Running { response } => match ready!(response.poll(cx)) {
                Ok(response) => response.into_response(),
                Err(error) => refusal(error.into()).into_response(),
            },
            AnsweredProjection::Refused { error } => refusal(error.take().expect("an answer is polled until it is ready, not after")).into_response(),
        };
        Poll::Ready(Ok(answer))
    }
}

fn refusal(error: BoxError) -> AppError {
    if error.is::<Elapsed>() {
        AppError::Timeout
    } else if let Some(too_large) = error.downcast_ref::<body_limit::TooLarge>() {
        AppError::from(too_large)
    } else if error.is::<body_limit::OverBudget>() {
        AppError::Busy
    } else {
        AppError::Internal(anyhow::anyhow!(error))
    }
}
