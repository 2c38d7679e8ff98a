import { BuiltinEngine, inspectTarget, detectFileType, expandArchives } from '@mmsguard/scan';
const img = new Uint8Array(300 * 1024 - 600); for (let i = 0; i < img.length; i++) img[i] = (i * 2654435761) >>> 24;
const e = new BuiltinEngine();
async function t(name, f) { for (let i=0;i<200;i++) await f(); const s=performance.now(); for (let i=0;i<2000;i++) await f(); console.log(name, ((performance.now()-s)/2000*1000).toFixed(1), 'us'); }
await t('inspectTarget', () => inspectTarget({path:'p', data: img, name: 'p.jpg', declaredType: 'image/jpeg'}, {engines:[e], timeoutMs: 30000, fileFilter: new Set()}));
await t('detectFileType', () => detectFileType(img, 'p.jpg', 'image/jpeg'));
await t('expand', () => expandArchives({path:'p', data: img}));
await t('engine.scan', () => e.scan({path:'p', data: img}, new AbortController().signal));
