//! `/`: who is signed in, in which tenant and with what role, and the
//! service's health.

use std::rc::Rc;

use sycamore::prelude::*;

use crate::api::Me;
use crate::components::HealthCard;

/// The signed-in user's home.
#[component(inline_props, derive(Debug))]
pub fn Home(me: Rc<Me>) -> View {
    let permissions: Vec<View> = me.permissions.iter().cloned().map(|p| view! { li { code { (p) } } }).collect();
    let others = me.tenants.len().saturating_sub(1);
    let name = me.name().to_owned();
    let email = me.email.clone();
    let tenant = format!("{} ({})", me.tenant.name, me.tenant.slug);
    let role = me.role().to_string();
    view! {
        section(class="card", aria-labelledby="who-title") {
            h2(id="who-title") { "Signed in" }
            dl(id="who") {
                dt { "Name" } dd(id="who-name") { (name) }
                dt { "Email" } dd(id="who-email") { (email) }
                dt { "Tenant" } dd(id="who-tenant") { (tenant) }
                dt { "Role" } dd(id="who-role") { (role) }
            }
            (other_tenants(others))
            details {
                summary { "What this role allows" }
                ul(id="who-permissions", class="permissions") { (permissions) }
            }
        }
        HealthCard {}
    }
}

fn other_tenants(count: usize) -> View {
    match count {
        0 => view! {},
        1 => view! { p(class="muted") { "You belong to one other tenant." } },
        n => {
            let line = format!("You belong to {n} other tenants.");
            view! { p(class="muted") { (line) } }
        }
    }
}
