(function () {
  "use strict";
  var media = JSON.parse(document.getElementById("media").textContent);
  document.querySelectorAll("[data-alt]").forEach(function (caption) {
    var alt = media.alts[caption.getAttribute("data-alt")] || "";
    var img = caption.closest("figure").querySelector("img");
    caption.textContent = alt;
    if (img) { img.alt = alt; }
  });
  document.querySelectorAll("img[data-media]").forEach(function (img) {
    var uri = media.images[img.getAttribute("data-media")];
    if (uri) { img.src = uri; }
  });
  var form = document.getElementById("filters");
  // The calendar scrolls inside the viewport below the sticky filters, and each day's label
  // stays under the embassy headers; both heights depend on wrapping, so they are measured.
  function measure() {
    var root = document.documentElement.style, head = document.querySelector(".calendar thead");
    root.setProperty("--bar", form.offsetHeight + "px");
    if (head) { root.setProperty("--head", head.offsetHeight + 8 + "px"); }
  }
  window.addEventListener("resize", measure);
  function checked(name) {
    var values = {};
    form.querySelectorAll("input[name=" + name + "]:checked").forEach(function (box) {
      values[box.value] = true;
    });
    return values;
  }
  function layout() {
    var chosen = form.querySelector("input[name=layout]:checked");
    var calendar = document.getElementById("calendar");
    if (chosen && calendar) {
      calendar.classList.toggle("by-day", chosen.value === "by-day");
      calendar.classList.toggle("grid", chosen.value === "grid");
    }
  }
  function apply() {
    var platforms = checked("platform"), embassies = checked("embassy");
    var onlyWarned = form.querySelector("input[name=warnings]").checked, shown = 0;
    document.querySelectorAll(".post").forEach(function (post) {
      var visible = platforms[post.dataset.platform] && embassies[post.dataset.embassy] &&
        (!onlyWarned || post.hasAttribute("data-warn"));
      post.hidden = !visible;
      if (visible) { shown += post.querySelectorAll(".card").length; }
    });
    document.querySelectorAll("[data-col]").forEach(function (cell) {
      cell.hidden = !embassies[cell.dataset.col];
    });
    document.getElementById("shown").textContent = shown + " deliveries shown";
  }
  form.addEventListener("change", function () { layout(); apply(); measure(); });
  form.querySelectorAll("button[data-all], button[data-none]").forEach(function (button) {
    button.addEventListener("click", function () {
      var name = button.dataset.all || button.dataset.none;
      form.querySelectorAll("input[name=" + name + "]").forEach(function (box) {
        box.checked = Boolean(button.dataset.all);
      });
      apply();
    });
  });
  apply();
  measure();
})();
