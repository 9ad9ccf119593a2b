//! Uploads straight to storage through a presigned request, with progress:
//! `XMLHttpRequest`, since `fetch` reports no upload progress.

use sycamore::web::js_sys::Promise;
use sycamore::web::wasm_bindgen::closure::Closure;
use sycamore::web::wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, ProgressEvent, XmlHttpRequest};

use super::wire::StorageRequest;

/// Sends `file` as `request` says; `progress` hears the fraction sent.
/// The error is a sentence for people.
pub async fn upload(request: &StorageRequest, file: &File, progress: impl Fn(f64) + 'static) -> Result<(), String> {
    let failed = |what: &str| format!("The upload could not start ({what}).");
    let xhr = XmlHttpRequest::new().map_err(|_| failed("no XMLHttpRequest"))?;
    xhr.open(&request.method, &request.url).map_err(|_| failed("bad address"))?;
    for (name, value) in &request.headers {
        xhr.set_request_header(name, value).map_err(|_| failed("bad header"))?;
    }
    let on_progress = Closure::<dyn Fn(ProgressEvent)>::new(move |event: ProgressEvent| {
        if event.length_computable() && event.total() > 0.0 {
            progress(event.loaded() / event.total());
        }
    });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    // Settled by whichever of load, error, abort comes first.
    let mut handlers = Vec::new();
    let finished = Promise::new(&mut |resolve, _| {
        for (event, outcome) in [("load", "load"), ("error", "error"), ("abort", "abort")] {
            let resolve = resolve.clone();
            let handler = Closure::<dyn Fn()>::new(move || {
                let _ = resolve.call1(&JsValue::NULL, &JsValue::from_str(outcome));
            });
            let _ = xhr.add_event_listener_with_callback(event, handler.as_ref().unchecked_ref());
            handlers.push(handler);
        }
    });
    xhr.send_with_opt_blob(Some(file)).map_err(|_| failed("the browser refused to send it"))?;
    let outcome = JsFuture::from(finished).await.ok().and_then(|v| v.as_string()).unwrap_or_default();
    // The handlers are needed until here.
    drop(handlers);
    drop(on_progress);
    let status = xhr.status().unwrap_or(0);
    match outcome.as_str() {
        "load" if (200..300).contains(&status) => Ok(()),
        "load" => Err(format!("Storage refused the upload (HTTP {status}).")),
        _ => Err("The upload did not reach storage; check your connection and try again.".to_owned()),
    }
}
