/** The app selector shown on per-app pages; writes `app` to the URL so the view is shareable. */
import type { SidecarSummary } from '../shared/api.js';

export function AppPicker({ sidecars, selected, onSelect }: { sidecars: SidecarSummary[]; selected: SidecarSummary | undefined; onSelect: (id: string) => void }) {
  return (
    <label className="field">
      <span>App</span>
      <select value={selected?.id ?? ''} onChange={(e) => onSelect(e.target.value)} aria-label="App">
        {sidecars.map((s) => (
          <option key={s.id} value={s.id}>
            {s.appId}
            {s.healthy ? '' : ' (down)'}
          </option>
        ))}
      </select>
    </label>
  );
}
