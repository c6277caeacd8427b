/**
 * The web.config of a folder that is one node application, as Azure's Kudu wrote it for every
 * node site: the entry script mapped to iisnode, files under `public/` served as they are, and
 * every other URL handed to the application. `nodehost serve app.js` runs a folder with it
 * (without writing it), and `nodehost init` writes it for people to edit.
 */

/** AppWebConfigOptions describe the application. */
export interface AppWebConfigOptions {
  /** The entry script, relative to the folder, `/`-separated (e.g. `server.js`, `dist/main.js`). */
  readonly script: string;
  /** Worker processes (nodeProcessCountPerApplication; 0 = one per CPU); absent: iisnode's default of 1. */
  readonly processes?: number | undefined;
}

/**
 * appWebConfig returns the text of the web.config for `options`, with comments that say what
 * each part does. The script name is escaped for XML attributes and for the rewrite pattern.
 */
export function appWebConfig(options: AppWebConfigOptions): string {
  const script = escapeXml(options.script);
  const pattern = escapeXml(`^${options.script.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\/debug[\\/]?`);
  const processes =
    options.processes === undefined
      ? '    <!-- <iisnode nodeProcessCountPerApplication="2" />  more worker processes (0: one per CPU) -->'
      : `    <iisnode nodeProcessCountPerApplication="${options.processes}" />`;
  return `<?xml version="1.0" encoding="utf-8"?>
<!--
  A node application for nodehost (and for IIS with iisnode): every URL that is not a file under
  public/ goes to ${script}. Reference: docs/configuration.md in the nodehost package.
-->
<configuration>
  <system.webServer>
    <!-- ${script} is the application; nodehost starts it with PORT set to a Unix socket path. -->
    <handlers>
      <add name="iisnode" path="${script}" verb="*" modules="iisnode" />
    </handlers>
${processes}
    <rewrite>
      <rules>
        <!-- The debugger page (/${script}/debug/) goes to the handler, not to the application. -->
        <rule name="NodeInspector" patternSyntax="ECMAScript" stopProcessing="true">
          <match url="${pattern}" />
        </rule>
        <!-- A file under public/ is served as it is: /css/site.css is public/css/site.css. -->
        <rule name="StaticContent">
          <action type="Rewrite" url="public{REQUEST_URI}" />
        </rule>
        <!-- Everything else goes to the application. -->
        <rule name="DynamicContent">
          <conditions>
            <add input="{REQUEST_FILENAME}" matchType="IsFile" negate="True" />
          </conditions>
          <action type="Rewrite" url="${script}" />
        </rule>
      </rules>
    </rewrite>
    <!-- The application's own error pages reach the client as they are. -->
    <httpErrors existingResponse="PassThrough" />
  </system.webServer>
</configuration>
`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
