// The Deploy form's version follows the environment (and target): the version deployed there,
// else the newest release (data-defaults, data-fallback, set by DeployForm). A version the user
// picked, or asked for with ?version= (data-pinned), stays as it is.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.deploy-form");
  const version = form && form.querySelector("select[name=version][data-defaults]");
  if (!version) return;
  const defaults = JSON.parse(version.dataset.defaults);
  const follow = () => {
    if (version.dataset.pinned) return;
    const key = `${form.elements.environment.value}/${form.elements.target.value}`;
    version.value = defaults[key] || version.dataset.fallback;
  };
  version.addEventListener("change", () => { version.dataset.pinned = "true"; });
  form.elements.environment.addEventListener("change", follow);
  form.elements.target.addEventListener("change", follow);
});
