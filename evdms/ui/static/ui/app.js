// The few behaviours the pages need; no inline script anywhere (the CSP forbids it).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector(".nav-toggle");
  const nav = document.getElementById("primary-nav");
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", String(!open));
      nav.classList.toggle("open", !open);
    });
  }
  // Copy-to-clipboard buttons: <button data-copy="#id-of-input">.
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const source = document.querySelector(button.dataset.copy);
      if (!source) return;
      try {
        await navigator.clipboard.writeText(source.value || source.textContent);
        button.textContent = "Copied";
      } catch (e) {
        source.select && source.select();
      }
    });
  });
  // Confirm dangerous actions: <form data-confirm="Are you sure?">.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});

// Help tips: the "?" button next to a label shows or hides the field's explanation.
// Without script every explanation stays visible.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("button.tip").forEach((button) => {
    const help = document.getElementById(button.getAttribute("aria-controls"));
    if (!help) return;
    help.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", () => {
      const open = button.getAttribute("aria-expanded") === "true";
      button.setAttribute("aria-expanded", String(!open));
      help.hidden = open;
    });
  });
});

// Dependent fields: each wrapper with data-show-when='[["field","value"], ...]' is shown
// only while every named control has that value. The server applies the same rules
// (connections/rules.py SHOW_WHEN), so what is hidden here is ignored there.
document.addEventListener("DOMContentLoaded", () => {
  const dependents = Array.from(document.querySelectorAll("[data-show-when]"));
  if (!dependents.length) return;
  const form = dependents[0].closest("form");
  const valueOf = (name) => {
    const control = form.elements.namedItem(name);
    if (!control) return "";
    const wrapper = document.getElementById("field-" + name);
    if (wrapper && wrapper.hidden) return "";  // a hidden control counts as not chosen
    if (control.type === "checkbox") return control.checked ? "yes" : "no";
    return control.value;
  };
  const update = () => {
    // Twice, so a field that depends on a field that was just hidden hides too.
    for (let pass = 0; pass < 2; pass++) {
      dependents.forEach((wrapper) => {
        const rules = JSON.parse(wrapper.dataset.showWhen);
        wrapper.hidden = !rules.every(([name, wanted]) => valueOf(name) === wanted);
      });
    }
  };
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
});

// "+ Request Additional Info": the second verification question stays folded away until
// asked for (or when it already has a value). Its "Remove this question" (data-unreveal
// on the same target) empties and folds it again: saved so, drivers are no longer asked.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-reveal]").forEach((button) => {
    const target = document.querySelector(button.dataset.reveal);
    if (!target) return;
    const input = target.querySelector("input");
    const remover = document.querySelector(`[data-unreveal="${button.dataset.reveal}"]`);
    const show = (open) => {
      target.hidden = !open;
      button.hidden = open;
      button.setAttribute("aria-expanded", String(open));
      if (remover) remover.hidden = !open;
    };
    show(!(input && !input.value && !target.classList.contains("has-error")));
    button.addEventListener("click", () => {
      show(true);
      if (input) input.focus();
    });
    if (remover) {
      remover.querySelector("button").addEventListener("click", () => {
        if (input) input.value = "";
        show(false);
        button.focus();
      });
    }
  });
});

// Home price: say at once when the typed price is above the connection's maximum.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("price-form");
  const note = document.getElementById("price-cap-note");
  if (!form || !note || !form.dataset.maxPrice) return;
  const input = form.elements.namedItem("price_per_kwh");
  const max = parseFloat(form.dataset.maxPrice);
  const check = () => {
    const value = parseFloat((input.value || "").replace(",", "."));
    note.hidden = !(value > max);
  };
  input.addEventListener("input", check);
  check();
});

// "Select all on this page": <input type="checkbox" data-select-all="ids"> in a table's
// head ticks or clears every box named "ids" of its form, and shows "some" (mixed) when
// only a few are ticked. Hidden without script: there "every one matching" does it.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-select-all]").forEach((all) => {
    const form = all.closest("form");
    if (!form) return;
    const boxes = Array.from(form.querySelectorAll(`input[type="checkbox"][name="${all.dataset.selectAll}"]`));
    if (!boxes.length) return;
    all.hidden = false;
    const update = () => {
      const ticked = boxes.filter((box) => box.checked).length;
      all.checked = ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    };
    all.addEventListener("change", () => {
      boxes.forEach((box) => { box.checked = all.checked; });
      update();
    });
    boxes.forEach((box) => box.addEventListener("change", update));
    update();
  });
});
// A table wider than the screen scrolls inside its .table-wrap: such a box takes the
// keyboard focus so it can be scrolled with the arrow keys too (WCAG 2.1.1), and says
// what it holds. Checked again when the window is resized or a <details> opens.
(() => {
  const mark = () => {
    document.querySelectorAll(".table-wrap").forEach((wrap) => {
      const scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      if (scrolls && !wrap.dataset.scrolls) {
        wrap.dataset.scrolls = "1";
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", "Table, scrolls sideways");
      } else if (!scrolls && wrap.dataset.scrolls) {
        delete wrap.dataset.scrolls;
        ["tabindex", "role", "aria-label"].forEach((name) => wrap.removeAttribute(name));
      }
    });
  };
  document.addEventListener("DOMContentLoaded", mark);
  window.addEventListener("resize", mark);
  document.addEventListener("htmx:afterSettle", mark);
  document.addEventListener("toggle", mark, true);
})();
