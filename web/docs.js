// The API reference: Swagger UI (served by this service from node_modules) reading /openapi.json.
globalThis.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  tryItOutEnabled: true,
});
