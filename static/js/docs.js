/**
 * The API docs page (/docs): Swagger UI, served by this server (no CDN), on the app's OpenAPI
 * document. A file rather than the usual inline script, so that the page's policy allows no
 * inline script at all.
 *
 * - No call to the public validator service: the page works without the internet.
 * - The admin token typed into "Authorize" is kept while the page is open only (not stored).
 */

const root = document.getElementById("swagger-ui");

window.SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  persistAuthorization: false,
  presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
});
