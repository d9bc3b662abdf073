//! 督办's browser client: a Leptos single-page app over duban's API, with
//! the request and response types of `duban-dto`, so client and server
//! cannot drift apart.
//!
//! Layout: `api` talks to the server, `strings` holds every text, `charts`
//! draws the dashboard's SVG, `pages/` has one module per page, and `work`
//! the panel of one unit's work on a task (evidence, upload, review), which
//! the task page, the unit's page and the review queue share.

mod api;
mod charts;
mod pages;
mod strings;
mod work;

use api::Session;
use duban_dto::Role;
use duban_dto::api::Me;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// The signed-in user, for pages deciding which controls to show. The API
/// decides what is allowed; hiding what would be refused keeps the page
/// honest.
#[derive(Clone)]
pub struct Viewer(pub Me);

impl Viewer {
    pub fn is(&self, roles: &[Role]) -> bool {
        roles.contains(&self.0.role)
    }

    pub fn unit_id(&self) -> Option<i64> {
        self.0.unit.as_ref().map(|unit| unit.id)
    }

    /// Inspectors and the offices above the counties read and change
    /// nothing of a county's work.
    pub fn read_only(&self) -> bool {
        matches!(self.0.role, Role::Inspector | Role::AreaOffice)
    }
}

pub fn viewer() -> Viewer {
    use_context::<Viewer>().expect("pages render inside a signed-in shell")
}

#[component]
fn App() -> impl IntoView {
    let session = Session::signal();
    view! {
        <Router>
            {move || match session.get() {
                // Signing in keeps the address: the page asked for appears after.
                None => view! { <pages::account::Login /> }.into_any(),
                Some(current) => match current.user.restriction {
                    Some(restriction) => view! { <pages::account::Restricted me=current.user restriction=restriction /> }.into_any(),
                    None => view! { <Shell me=current.user /> }.into_any(),
                },
            }}
        </Router>
    }
}

#[component]
fn Shell(me: Me) -> impl IntoView {
    provide_context(Viewer(me.clone()));
    provide_context(pages::inbox::InboxChanged(RwSignal::new(0)));
    let viewer = Viewer(me.clone());
    let unit_roles = viewer.is(&[Role::UnitManager, Role::UnitStaff]);
    let reviews = viewer.is(&[Role::LeadOffice, Role::UnitManager, Role::UnitStaff]);
    let admin =
        viewer.is(&[Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin, Role::LeadOffice, Role::Inspector, Role::UnitManager]);
    let read_only = viewer.read_only();
    let overseer = viewer.is(&[Role::LeadOffice, Role::Inspector, Role::AreaOffice]);
    view! {
        <header class="top">
            <h1><A href="/">{strings::APP_TITLE}</A></h1>
            <nav aria-label="主导航">
                <A href="/" exact=true>{strings::NAV_DASHBOARD}</A>
                <A href="/tasks">{strings::NAV_TASKS}</A>
                <A href="/notices">{strings::NAV_NOTICES}</A>
                <A href="/scores">{strings::NAV_SCORES}</A>
                {overseer.then(|| view! { <A href="/province">{strings::NAV_PROVINCE}</A> })}
                <A href="/bulletins">{strings::NAV_BULLETINS}</A>
                {unit_roles.then(|| view! { <A href="/my">{strings::NAV_MY_UNIT}</A> })}
                {reviews.then(|| view! { <A href="/reviews">{strings::NAV_REVIEWS}</A> })}
                {admin.then(|| view! { <A href="/admin">{strings::NAV_ADMIN}</A> })}
            </nav>
            <div class="user">
                <span data-role=me.role.as_str()>
                    {me.display_name.clone()} " · " {me.role.zh_name()}
                    {me.unit.as_ref().map(|unit| format!(" · {}", unit.name)).or_else(|| me.region.as_ref().map(|region| format!(" · {region}")))}
                </span>
                <pages::inbox::UnreadCount />
                <A href="/account">{strings::NAV_ACCOUNT}</A>
                <button class="sign-out" on:click=move |_| spawn_local(api::logout())>{strings::SIGN_OUT}</button>
            </div>
        </header>
        {read_only.then(|| view! { <p class="banner read-only">{strings::READ_ONLY}</p> })}
        <main>
            <Routes fallback=|| view! { <p>{strings::NOT_FOUND}</p> }>
                <Route path=path!("/") view=pages::dashboard::DashboardPage />
                <Route path=path!("/tasks") view=pages::tasks::TasksPage />
                <Route path=path!("/tasks/:id") view=pages::task::TaskPage />
                <Route path=path!("/my") view=pages::my_unit::MyUnitPage />
                <Route path=path!("/reviews") view=pages::reviews::ReviewsPage />
                <Route path=path!("/admin") view=pages::admin::AdminPage />
                <Route path=path!("/notices") view=pages::notices::NoticesPage />
                <Route path=path!("/notices/:id") view=pages::notices::NoticePage />
                <Route path=path!("/inbox") view=pages::inbox::InboxPage />
                <Route path=path!("/scores") view=pages::scores::ScoresPage />
                <Route path=path!("/province") view=pages::province::ProvincePage />
                <Route path=path!("/new-county") view=pages::new_county::NewCountyPage />
                <Route path=path!("/scores/units/:id") view=pages::scores::UnitScorePage />
                <Route path=path!("/bulletins") view=pages::bulletins::BulletinsPage />
                <Route path=path!("/bulletins/:id") view=pages::bulletins::BulletinPage />
                <Route path=path!("/account") view=pages::account::Account />
            </Routes>
        </main>
    }
}

/// Shows a loaded value, the loading note, or the failure in words.
pub fn loaded<T: Clone + 'static, V: IntoView + 'static>(value: Option<Result<T, api::ApiError>>, show: impl FnOnce(T) -> V) -> AnyView {
    match value {
        None => view! { <p class="loading">{strings::LOADING}</p> }.into_any(),
        Some(Ok(value)) => show(value).into_any(),
        Some(Err(failure)) => view! { <p class="error" role="alert">{strings::LOAD_FAILED}{failure.to_string()}</p> }.into_any(),
    }
}

/// The choices of a unit picker: none, then every unit of the roster.
#[component]
pub fn UnitOptions() -> impl IntoView {
    let units = LocalResource::new(|| api::get_every_page::<duban_dto::api::Unit>("/api/v1/units"));
    view! {
        <option value="">"—"</option>
        {move || units.get().and_then(Result::ok).map(|page| page.items.into_iter().map(|unit| view! {
            <option value=unit.id.to_string()>{unit.name}</option>
        }).collect_view())}
    }
}
