/* SPDX-License-Identifier: Apache-2.0 */
/* The SMS code page: seconds left, counted down in the page. */
"use strict";
(function () {
  const el = document.getElementById("countdown");
  if (!el) return;
  let left = Number(el.dataset.left);
  const tick = () => {
    el.textContent = String(Math.max(0, left));
    if (left-- > 0) setTimeout(tick, 1000);
  };
  tick();
})();
