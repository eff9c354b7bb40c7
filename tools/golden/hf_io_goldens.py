# Golden values for lora4j's I/O and config layer, from the Python reference stack.
# Run on a machine with transformers, peft, safetensors and torch (it was run with transformers
# 5.17.0, peft 0.21.0, safetensors 0.8.0, torch 2.11.0+cu130) as:  OUT=/some/dir python3 hf_io_goldens.py
# It writes $OUT/g.tgz holding:
#   res.json            inv_freq (CPU and CUDA), base and LoRA (r=32, q/k/v/o) parameter counts
#                       -> lora-core/src/test/resources/io/github/lora4j/core/model/hf-goldens.json
#   <case>.v5.json      each config as transformers 5 saves it (rope_parameters, dtype)
#                       -> lora-core/src/test/resources/io/github/lora4j/core/model/transformers5/
#   ref.safetensors     save_file of six small tensors, one of each dtype
#                       -> lora-tensor/src/test/resources/io/github/lora4j/tensor/safetensors/reference-0.8.0.safetensors
#   tiny_adapter/       a PEFT 0.21 adapter (adapter_config.json, adapter_model.safetensors) of a
#                       2-layer random Llama -> lora-core and lora-cli test resources
# The code below is the exact program that produced the committed files (it was sent compressed).
import json,os,torch,transformers as T,peft,safetensors as S,tarfile
from safetensors.torch import save_file
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding as R
O=os.environ['OUT'];D='/tmp/g';os.makedirs(D,exist_ok=True);J=json.dump;res={'v':[T.__version__,peft.__version__,S.__version__,torch.__version__]}
ls=dict(factor=8.0,low_freq_factor=1.0,high_freq_factor=4.0,original_max_position_embeddings=8192,rope_type="llama3")
c8=dict(architectures=["LlamaForCausalLM"],attention_bias=False,attention_dropout=0.0,bos_token_id=128000,eos_token_id=128001,hidden_act="silu",hidden_size=4096,initializer_range=0.02,intermediate_size=14336,max_position_embeddings=131072,mlp_bias=False,model_type="llama",num_attention_heads=32,num_hidden_layers=32,num_key_value_heads=8,pretraining_tp=1,rms_norm_eps=1e-05,rope_scaling=ls,rope_theta=500000.0,tie_word_embeddings=False,torch_dtype="bfloat16",vocab_size=128256,use_cache=True)
c1=dict(c8,hidden_size=2048,intermediate_size=8192,num_hidden_layers=16,head_dim=64,tie_word_embeddings=True,rope_scaling=dict(ls,factor=32.0),eos_token_id=[128001,128008,128009])
cd=dict(model_type="llama",hidden_size=256,num_attention_heads=4,intermediate_size=512,num_hidden_layers=2,vocab_size=1000)
cl=dict(cd,rope_scaling=dict(type="linear",factor=4.0),rope_theta=10000.0)
cq=dict(model_type="qwen2",hidden_size=896,num_attention_heads=14,num_key_value_heads=2,intermediate_size=4864,num_hidden_layers=24,vocab_size=151936,rope_theta=1000000.0,tie_word_embeddings=True)
def ld(n,c):
 p=f'{D}/{n}';os.makedirs(p,exist_ok=True);J(c,open(p+'/config.json','w'));k=T.AutoConfig.from_pretrained(p);q=p+'_v5';k.save_pretrained(q);os.system(f'cp {q}/config.json {D}/{n}.v5.json');return k
for n,c in [('l8',c8),('l1',c1),('ld',cd),('ll',cl),('q',cq)]:
 k=ld(n,c);r={'cpu':[float(x) for x in R(k).inv_freq]}
 if torch.cuda.is_available():r['cuda']=[float(x) for x in R(k,device='cuda').inv_freq.cpu()]
 with torch.device('meta'):m=T.AutoModelForCausalLM.from_config(k)
 r['base']=sum(p.numel() for p in m.parameters());pm=peft.get_peft_model(m,peft.LoraConfig(r=32,lora_alpha=64,target_modules=['q_proj','k_proj','v_proj','o_proj'],task_type='CAUSAL_LM'))
 r['lora']=pm.get_nb_trainable_parameters();res[n]=r
for n in ['llama','qwen2','mistral']:J(T.AutoConfig.for_model(n).to_dict(),open(f'{D}/def_{n}.json','w'),indent=1)
torch.manual_seed(0);t=dict(cd,hidden_size=64,intermediate_size=96,num_key_value_heads=2,vocab_size=128,num_hidden_layers=2);m=T.AutoModelForCausalLM.from_config(T.AutoConfig.for_model(**t))
pm=peft.get_peft_model(m,peft.LoraConfig(r=4,lora_alpha=8,target_modules=['q_proj','v_proj','down_proj'],task_type='CAUSAL_LM',init_lora_weights=False));pm.save_pretrained(D+'/tiny_adapter')
save_file({'w':torch.arange(6,dtype=torch.float32).reshape(2,3),'b':torch.tensor([1.5,-2.0,3.140625],dtype=torch.bfloat16),'h':torch.tensor([0.5,65504.0],dtype=torch.float16),'i':torch.tensor([[7,-8]],dtype=torch.int64),'j':torch.tensor([1,2,3],dtype=torch.int32),'u':torch.tensor([255,0,1],dtype=torch.uint8)},D+'/ref.safetensors',metadata={'format':'pt'})
J(res,open(D+'/res.json','w'));tarfile.open(O+'/g.tgz','w:gz').add(D,'g')
print(json.dumps(res)[:3000])
