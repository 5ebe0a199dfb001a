// Pages with personal data (<html data-private>) must not come back from
// the browser's back/forward cache after a logout: Chromium restores pages
// from it although they are Cache-Control: no-store. So such a page empties
// itself when the browser keeps it for later, and reloads when it is
// restored: the server then answers as it does now (after a logout, with
// the login page).
"use strict";
if (document.documentElement.hasAttribute("data-private")) {
  addEventListener("pagehide", (e) => {
    if (e.persisted) document.body.replaceChildren();
  });
  addEventListener("pageshow", (e) => {
    if (e.persisted) location.reload();
  });
}
