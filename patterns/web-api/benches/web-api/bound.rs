//! The bound: the fastest answer this machine gives over the same HTTP/1.1 connections, a
//! bare hyper server with no routing, no middleware, no database. GET answers item 1's
//! bytes; POST reads the body and answers 201. It runs as its own process, the bench
//! binary started with `--serve-bound`, as every server under test does.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const ITEM: &str = r#"{"id":1,"name":"teapot","price_cents":1250,"stock":3}"#;

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let status = if request.method() == Method::POST {
        // Read the whole body, as a real handler must before it can answer.
        let _ = request.into_body().collect().await;
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = Response::new(Full::new(Bytes::from_static(ITEM.as_bytes())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().expect("valid"));
    Ok(response)
}

/// Serves until killed, on a multi-thread runtime as the axum server's.
pub(crate) fn serve() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        println!("serving http://{}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            tokio::spawn(async move {
                let io = TokioIo::new(stream);
                let _ = http1::Builder::new()
                    .serve_connection(io, service_fn(answer))
                    .await;
            });
        }
    })
}
