// Tool fixtures shared by the native, OpenAI and Anthropic tool tests. stories260K never writes a tool
// call by itself, so tests force one with a JSON-schema `format` under a template whose call tag is `{`.

// Llama 3.1 style: tools as JSON in the last user turn, calls as bare JSON objects.
export const JSON_CALLS =
  '{{- range $i, $_ := .Messages }}{{- $last := eq (len (slice $.Messages $i)) 1 }}' +
  '{{- if eq .Role "user" }}{{ if and $.Tools $last }}Tools: {{ range $.Tools }}{{ . }} {{ end }}{{ end }}U: {{ .Content }}\n' +
  '{{ else if eq .Role "assistant" }}A: {{ if .ToolCalls }}{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "parameters": {{ .Function.Arguments }}}{{ end }}{{ else }}{{ .Content }}{{ end }}\n' +
  '{{ else if eq .Role "tool" }}T({{ .ToolName }}): {{ .Content }}\n{{ end }}{{ end }}A:';
export const weather = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the weather",
    parameters: { type: "object", required: ["city"], properties: { city: { type: "string", description: "The city" } } },
  },
};

// The call the schema forces: the model can only choose among these values.
export const callSchema = {
  type: "object",
  properties: {
    name: { type: "string", enum: ["get_weather"] },
    parameters: { type: "object", properties: { city: { type: "string", enum: ["Paris", "Rome"] } }, required: ["city"] },
  },
  required: ["name", "parameters"],
};
