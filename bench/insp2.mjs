import { BuiltinEngine, scanWithEngine } from '@mmsguard/scan';
const img = new Uint8Array(300 * 1024 - 600);
const e = new BuiltinEngine();
async function t(name, f) { for (let i=0;i<200;i++) await f(); const s=performance.now(); for (let i=0;i<5000;i++) await f(); console.log(name, ((performance.now()-s)/5000*1000).toFixed(1), 'us'); }
await t('scanWithEngine', () => scanWithEngine(e, {path:'p', data: img}, 30000));
await t('setTimeout+clear', () => { const x = setTimeout(()=>{}, 30000); clearTimeout(x); return Promise.resolve(); });
await t('AbortController', () => { const c = new AbortController(); return Promise.resolve(c); });
await t('race', () => Promise.race([Promise.resolve(1), new Promise(()=>{}), new Promise(()=>{})]));
