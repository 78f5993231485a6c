/** Entry point of the browser app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App } from './App.js';
import './styles.css';

const client = new QueryClient({
  defaultOptions: {
    queries: {
      // Live views are refreshed by server-sent ticks, not by focus or a timer of each query.
      refetchOnWindowFocus: false,
      retry: 1,
      staleTime: 1000,
    },
  },
});

const root = document.getElementById('root');
if (!root) throw new Error('the page has no #root element');
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={client}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
